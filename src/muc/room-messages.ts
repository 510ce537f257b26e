import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import { parseJid, type Jid } from '../base/jid';
import { cloneElement, serializeXml } from '../xml';
import { roomConversation, type ArchiveReceipt } from '../store/archive-store';
import type { Occupant } from '../store/room-store';
import { affiliationOf, bareOf, viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_MUC_USER, NS_SID } from './namespaces';
import { mayInvite, maySendPrivate, maySetSubject, maySpeak } from './permissions';
import { removeOccupant } from './room-entry';
import { sendMemberNotices } from './member-notices';
import { membershipChanged } from './group-events';

/** The children of a client's message that the room passes on (its own stanza-ids and addressing stay behind). */
function relayedChildren(message: Element, room: string): Element[] {
  return message.children.filter(
    (c): c is Element =>
      // XEP-0359 §3.1: a stanza-id claiming to be the room's own is never passed on.
      typeof c !== 'string' && !(c.name === 'stanza-id' && c.attrs.xmlns === NS_SID && c.attrs.by === room),
  );
}

/**
 * XEP-0045 §7.4: a message to all occupants. Runs inside the room's exclusive work: the archive gives it
 * the room's next sequence number (its archive id, the XEP-0359 stanza-id every copy carries), then every
 * occupant gets it before the next message of the room is taken — the order of sequence numbers is the
 * order of arrival for everyone, on every node. §8.1: a message with a subject and no body changes the
 * subject.
 */
export async function groupMessage(runtime: MucRuntime, stanza: Element, from: Jid, to: Jid): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const sender = view.occupants.find((o) => o.jid === from.full);
  if (!sender) throw new StanzaError('not-acceptable', 'only occupants may send messages to the room'); // §7.4
  const subject = stanza.getChild('subject');
  if (subject && stanza.getChild('body') === undefined) return setSubject(runtime, view, sender, stanza, subject.getText());
  if (!maySpeak(sender.role)) throw new StanzaError('forbidden', 'visitors may not speak in a moderated room'); // §7.4, §8.4
  const message = new Element('message', { xmlns: 'jabber:client', type: 'groupchat', from: `${view.jid}/${sender.nick}` });
  if (stanza.attrs.id !== undefined) message.attrs.id = stanza.attrs.id;
  for (const child of relayedChildren(stanza, view.jid)) message.cnode(cloneElement(child));
  await broadcastGroupMessage(runtime, view, message, {
    sender: from.bare,
    originId: stanza.getChild('origin-id', NS_SID)?.attrs.id as string | undefined,
  });
}

/** Who a room message is from, beyond its `from` (an occupant JID, or the room's own JID). */
export interface GroupMessageSender {
  /** The real bare JID of the sender (a user, or the domain for the business API). */
  readonly sender: string;
  readonly originId?: string;
}

/**
 * A groupchat message of the room, `from` set: archived (the room's next sequence number and archive
 * id, the stanza-id), then sent to every occupant, the member notices and the groupMessage event. Runs
 * inside the room's exclusive work; occupants' messages and the business API's come through here.
 */
export async function broadcastGroupMessage(runtime: MucRuntime, view: RoomView, message: Element, who: GroupMessageSender): Promise<ArchiveReceipt> {
  const from = String(message.attrs.from);
  const receipt = await runtime.archive.append({
    conversation: roomConversation(view.jid),
    copies: [{ owner: view.jid, with: from }],
    from,
    to: view.jid,
    type: 'groupchat',
    originId: who.originId,
    body: message.getChildText('body') ?? undefined,
    stanza: serializeXml(message),
  });
  message.c('stanza-id', { xmlns: NS_SID, by: view.jid, id: receipt.archiveId });
  await runtime.delivery.broadcast(message, view.occupants);
  await sendMemberNotices(runtime, view, message, { seq: receipt.seq, archiveId: receipt.archiveId, from, senderJid: who.sender });
  runtime.events?.emit('groupMessage', () => ({
    node: runtime.node,
    at: new Date(runtime.now()),
    room: view.jid,
    from,
    sender: who.sender,
    seq: receipt.seq,
    archiveId: receipt.archiveId,
    id: message.attrs.id as string | undefined,
    stanza: serializeXml(message),
    occupants: view.occupants.length,
  }));
  return receipt;
}

/** XEP-0045 §8.1: the new subject goes to everyone and is kept for newcomers. */
async function setSubject(runtime: MucRuntime, view: RoomView, sender: Occupant, stanza: Element, text: string): Promise<void> {
  if (!maySetSubject(sender.role, view.state.config)) throw new StanzaError('forbidden', 'you may not change the subject of this room');
  await runtime.rooms.setSubject(view.name, text === '' ? undefined : { text, nick: sender.nick, at: runtime.now() });
  const message = new Element('message', { xmlns: 'jabber:client', type: 'groupchat', from: `${view.jid}/${sender.nick}` });
  if (stanza.attrs.id !== undefined) message.attrs.id = stanza.attrs.id;
  message.c('subject').t(text);
  await runtime.delivery.broadcast(message, view.occupants);
}

/** XEP-0045 §7.5: a private message to one occupant, from the sender's occupant JID. */
export async function privateMessage(runtime: MucRuntime, stanza: Element, from: Jid, to: Jid): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const sender = view.occupants.find((o) => o.jid === from.full);
  if (!sender) throw new StanzaError('not-acceptable', 'only occupants may send private messages');
  if (!maySendPrivate(sender.role, view.state.config.allowPm)) throw new StanzaError('forbidden', 'private messages are not allowed here');
  const target = view.occupants.find((o) => o.nick === to.resource);
  if (!target) throw new StanzaError('item-not-found', 'no such occupant'); // §7.5
  const message = new Element('message', { xmlns: 'jabber:client', type: stanza.attrs.type ?? 'chat', from: `${view.jid}/${sender.nick}`, to: target.jid });
  if (stanza.attrs.id !== undefined) message.attrs.id = stanza.attrs.id;
  for (const child of relayedChildren(stanza, view.jid)) if (!(child.name === 'x' && child.attrs.xmlns === NS_MUC_USER)) message.cnode(cloneElement(child));
  // §7.5: marks the message as private, from within the room.
  message.c('x', { xmlns: NS_MUC_USER });
  await runtime.delivery.deliver([{ occupant: target, stanza: message }]);
}

/**
 * XEP-0045 §7.8.2: a mediated invitation goes from the room to the invitee; §7.8.2 also lets a
 * members-only room make the invitee a member when an admin or owner invites (invitesGrantMembership).
 * A decline goes back to the inviter (§7.8.2 ex. 63).
 */
export async function invitation(runtime: MucRuntime, from: Jid, to: Jid, x: Element): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  for (const decline of x.getChildren('decline')) {
    const inviter = parseJid(String(decline.attrs.to ?? ''));
    if (!inviter) throw new StanzaError('jid-malformed', 'a decline names the inviter');
    const message = new Element('message', { xmlns: 'jabber:client', from: view.jid, to: inviter.full });
    const out = message.c('x', { xmlns: NS_MUC_USER }).c('decline', { from: from.bare });
    const reason = decline.getChildText('reason');
    if (reason) out.c('reason').t(reason);
    await runtime.send(message);
  }
  const invites = x.getChildren('invite');
  if (invites.length === 0) return;
  const sender = view.occupants.find((o) => o.jid === from.full);
  const affiliation = affiliationOf(view, from.bare);
  const config = view.state.config;
  if (!sender && affiliation !== 'owner' && affiliation !== 'admin') throw new StanzaError('not-acceptable', 'only occupants may invite');
  if (!mayInvite(affiliation, config)) throw new StanzaError('forbidden', 'you may not invite to this room');
  for (const invite of invites) {
    const invitee = parseJid(String(invite.attrs.to ?? ''));
    if (!invitee) throw new StanzaError('jid-malformed', 'an invitation names the invitee');
    if (config.membersOnly && config.invitesGrantMembership && (affiliation === 'owner' || affiliation === 'admin')) {
      if ((view.affiliations.get(invitee.bare) ?? 'none') === 'none') {
        await runtime.rooms.setAffiliation(view.name, invitee.bare, 'member');
        membershipChanged(runtime, view.jid, invitee.bare, 'none', 'member', from.bare);
      }
    }
    const message = new Element('message', { xmlns: 'jabber:client', from: view.jid, to: invitee.full });
    const out = message.c('x', { xmlns: NS_MUC_USER });
    const forwarded = out.c('invite', { from: from.full });
    const reason = invite.getChildText('reason');
    if (reason) forwarded.c('reason').t(reason);
    // §7.8.2: the invitation to a password-protected room carries the password.
    if (config.passwordProtected) out.c('password').t(config.password);
    message.c('body').t(`${bareOf(from.full)} invites you to the room ${view.jid}${reason ? `: ${reason}` : ''}`);
    await runtime.send(message);
  }
}

/**
 * An error back from an occupant's address (its session is gone, RFC 6120 §8.3): the occupant is
 * removed (status 333) so the room does not keep a ghost. This is also how the room learns of
 * occupants whose node died.
 */
export async function deliveryError(runtime: MucRuntime, stanza: Element, from: Jid, to: Jid): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  const occupant = view?.occupants.find((o) => o.jid === from.full);
  if (!view || !occupant) return;
  // Errors the occupant's client itself sent back (a PM it refused) do not mean it is gone.
  const condition = stanza.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name;
  if (condition !== 'service-unavailable' && condition !== 'recipient-unavailable' && condition !== 'item-not-found') return;
  await removeOccupant(runtime, view, occupant, { codes: [333], tellOccupant: false });
}
