import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import type { ArchiveQuery } from '../store/archive-store';
import { parseStrictXml } from '../xml';
import { affiliationOf, viewRoom, type MucRuntime } from './muc-runtime';
import { NS_DATA, NS_MAM } from './namespaces';
import { isMember } from './permissions';

const NS_RSM = 'http://jabber.org/protocol/rsm';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_DELAY = 'urn:xmpp:delay';
/** XEP-0313 §4.1.3: pages are bounded whatever the client asks. */
export const MAX_PAGE = 250;
const DEFAULT_PAGE = 50;

/**
 * XEP-0313 §4 for a room's archive (the room JID is the archive's owner): the result messages, then
 * the iq answer with <fin/>, in the order they must reach the requester. In a members-only room only
 * members (and occupants) may read it; an open room's archive is open to anyone who may enter.
 */
export async function roomArchiveQuery(runtime: MucRuntime, from: Jid, to: Jid, query: Element): Promise<{ results: Element[]; fin: Element }> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const affiliation = affiliationOf(view, from.bare);
  const inRoom = view.occupants.some((o) => o.jid === from.full);
  if (affiliation === 'outcast' || (view.state.config.membersOnly && !isMember(affiliation) && !inRoom)) {
    throw new StanzaError('forbidden', 'only members read this room’s archive');
  }
  const request: { -readonly [K in keyof ArchiveQuery]: ArchiveQuery[K] } = { owner: view.jid, limit: DEFAULT_PAGE };
  const form = query.getChild('x', NS_DATA);
  for (const field of form?.getChildren('field') ?? []) {
    const value = field.getChildText('value') ?? '';
    switch (field.attrs.var) {
      case 'with':
        request.with = value;
        break;
      case 'start':
      case 'end': {
        const date = new Date(value);
        if (Number.isNaN(date.getTime())) throw new StanzaError('bad-request', `${String(field.attrs.var)} is not a date`);
        if (field.attrs.var === 'start') request.start = date;
        else request.end = date;
        break;
      }
      case 'after-id':
        request.afterId = value;
        break;
      case 'before-id':
        request.beforeId = value;
        break;
    }
  }
  const set = query.getChild('set', NS_RSM);
  const max = set?.getChildText('max');
  if (max !== undefined && max !== null) {
    if (!/^\d+$/.test(max)) throw new StanzaError('bad-request', 'RSM max is a number');
    request.limit = Math.min(Number(max), MAX_PAGE);
  }
  const after = set?.getChildText('after');
  if (after !== undefined && after !== null) request.after = after;
  const before = set?.getChild('before');
  if (before) request.before = before.getText();
  const page = await runtime.archive.query(request);
  if ('unknownId' in page) throw new StanzaError('item-not-found', `no message ${page.unknownId} in this archive`); // XEP-0313 §6.1
  const queryId = query.attrs.queryid as string | undefined;
  const results = page.messages.map((archived) => {
    const message = new Element('message', { xmlns: 'jabber:client', from: view.jid, to: from.full });
    const result = message.c('result', { xmlns: NS_MAM, id: archived.archiveId });
    if (queryId !== undefined) result.attrs.queryid = queryId;
    const forwarded = result.c('forwarded', { xmlns: NS_FORWARD });
    forwarded.c('delay', { xmlns: NS_DELAY, stamp: archived.ts.toISOString() });
    const original = parseStrictXml(archived.stanza);
    original.attrs.xmlns = 'jabber:client';
    forwarded.cnode(original);
    return message;
  });
  const fin = new Element('fin', { xmlns: NS_MAM });
  if (page.complete) fin.attrs.complete = 'true';
  const rsm = fin.c('set', { xmlns: NS_RSM });
  const first = page.messages[0];
  const last = page.messages[page.messages.length - 1];
  if (first && last) {
    rsm.c('first').t(first.archiveId);
    rsm.c('last').t(last.archiveId);
  }
  if (page.count !== undefined) rsm.c('count').t(String(page.count));
  return { results, fin };
}
