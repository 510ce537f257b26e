import { Element } from 'ltx';
import { cloneElement } from '../xml';
import { bareOf, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_MUC_NOTICE } from './namespaces';
import { isMember } from './permissions';

/** What a notice says of the message it announces. */
export interface NoticeFacts {
  readonly seq: number;
  readonly archiveId: string;
  /** Who the message is from in the room: an occupant JID (room@service/nick), or the room's own JID. */
  readonly from: string;
  /** The sender's bare JID (members know each other in a group). */
  readonly senderJid: string;
}

const NS_FORWARD = 'urn:xmpp:forward:0';

/**
 * Groups: each member of the room who is not in it hears that the room has a new message — by default
 * a small notice (room, sequence number, archive id, sender); with memberNotices 'message' the message
 * too (XEP-0297 forwarded). A headline to the member's bare JID: every online resource gets it and an
 * offline member gets nothing (RFC 6121 §8.5.2.1.1); that member catches up from the room's archive
 * ("everything after the last sequence number seen", a MAM query to the room).
 */
export async function sendMemberNotices(runtime: MucRuntime, view: RoomView, message: Element, facts: NoticeFacts): Promise<void> {
  const mode = view.state.config.memberNotices;
  if (mode === 'off') return;
  const inRoom = new Set(view.occupants.map((o) => bareOf(o.jid)));
  // A JID without a local part (the domain, owner of groups the business API creates) is no user to notify.
  const absent = [...view.affiliations].filter(([jid, affiliation]) => isMember(affiliation) && !inRoom.has(jid) && jid.includes('@')).map(([jid]) => jid);
  await Promise.all(
    absent.map(async (member) => {
      const notice = new Element('message', { xmlns: 'jabber:client', type: 'headline', from: view.jid, to: member });
      const body = notice.c('notice', {
        xmlns: NS_MUC_NOTICE,
        seq: String(facts.seq),
        id: facts.archiveId,
        from: facts.from,
        jid: facts.senderJid,
      });
      if (mode === 'message') {
        const forwarded = body.c('forwarded', { xmlns: NS_FORWARD });
        const copy = cloneElement(message);
        copy.attrs.to = view.jid;
        forwarded.cnode(copy);
      }
      await runtime.send(notice);
    }),
  );
}
