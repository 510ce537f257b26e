import { Element } from 'ltx';
import { NS_CLIENT } from '../base/namespaces';
import type { ArchivedMessage, ArchivePage } from '../store/archive-store';
import { parseStrictXml } from '../xml';
import { NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM } from './namespaces';

/** Who the results are from and for. */
export interface MamAddressing {
  /** The archive's JID: the user's bare JID, or the room's. */
  readonly archive: string;
  /** The requester's full JID. */
  readonly to: string;
  /** The query's queryid, echoed in every result (XEP-0313 §4.1.2). */
  readonly queryId: string | undefined;
}

/**
 * XEP-0313 §4.2: one result message per archived message, oldest first —
 * <message><result queryid id><forwarded><delay stamp/><message/></forwarded></result></message> —
 * then, for the iq result, <fin/> with the XEP-0059 set (first, last, count) and complete='true' when
 * the page reached the end in the direction of paging (§4.3). Send the results through the iq
 * handler's context.send, then answer with `fin` inside the iq result. Used for users' and rooms'
 * archives alike.
 */
export function renderMamPage(page: ArchivePage, addressing: MamAddressing): { results: Element[]; fin: Element } {
  const results = page.messages.map((archived) => resultMessage(archived, addressing));
  const fin = new Element('fin', { xmlns: NS_MAM });
  if (page.complete) fin.attrs.complete = 'true';
  const set = fin.c('set', { xmlns: NS_RSM });
  const first = page.messages[0];
  const last = page.messages[page.messages.length - 1];
  if (first && last) {
    set.c('first').t(first.archiveId);
    set.c('last').t(last.archiveId);
  }
  if (page.count !== undefined) set.c('count').t(String(page.count));
  return { results, fin };
}

/** One archived message as a XEP-0313 result. */
export function resultMessage(archived: ArchivedMessage, addressing: MamAddressing): Element {
  const message = new Element('message', { xmlns: NS_CLIENT, from: addressing.archive, to: addressing.to });
  const result = message.c('result', { xmlns: NS_MAM, id: archived.archiveId });
  if (addressing.queryId !== undefined) result.attrs.queryid = addressing.queryId;
  const forwarded = result.c('forwarded', { xmlns: NS_FORWARD });
  forwarded.c('delay', { xmlns: NS_DELAY, stamp: archived.ts.toISOString() });
  // Checked when it came in; read back with the fixed bound for stored XML.
  const original = parseStrictXml(archived.stanza);
  original.attrs.xmlns = NS_CLIENT;
  forwarded.cnode(original);
  return message;
}
