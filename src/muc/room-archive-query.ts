import type { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import { readMamQuery, renderMamPage } from '../archive';
import { affiliationOf, viewRoom, type MucRuntime } from './muc-runtime';
import { isMember } from './permissions';

/**
 * XEP-0313 §4 for a room's archive (the room JID is the archive's owner), read and rendered as users'
 * archives are (src/archive/): the result messages, then the <fin/> for the iq answer, in the order
 * they must reach the requester. In a members-only room only members and occupants may read it; an
 * open room's archive is open to anyone who is not banned.
 */
export async function roomArchiveQuery(runtime: MucRuntime, from: Jid, to: Jid, query: Element): Promise<{ results: Element[]; fin: Element }> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const affiliation = affiliationOf(view, from.bare);
  const inRoom = view.occupants.some((o) => o.jid === from.full);
  if (affiliation === 'outcast' || (view.state.config.membersOnly && !isMember(affiliation) && !inRoom)) {
    throw new StanzaError('forbidden', 'only members read this room’s archive');
  }
  const request = readMamQuery(query, view.jid);
  if (request instanceof StanzaError) throw request;
  const page = await runtime.archive.query(request);
  if ('unknownId' in page) throw new StanzaError('item-not-found', `no message ${page.unknownId} in this archive`); // XEP-0313 §6.1
  return renderMamPage(page, { archive: view.jid, to: from.full, queryId: query.attrs.queryid as string | undefined });
}
