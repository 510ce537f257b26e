import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { ArchiveStore } from '../store/archive-store';
import { iqResult, type IqRouting } from '../xmpp/iq-handlers';
import { mamSearchForm, readMamQuery } from './mam-query';
import { renderMamPage } from './mam-render';
import { NS_MAM, NS_MAM_EXTENDED } from './namespaces';

/**
 * XEP-0313 for users: a user queries their own archive at their bare JID (or with no 'to'): the
 * search form (§5.1.1), the query (§4: result messages through context.send, then the iq result with
 * <fin/>), and the #extended metadata (§5.3: the first and last message). Advertised in disco#info of
 * the account. Nobody reads another user's archive.
 */
export function registerUserArchive(iq: IqRouting, store: ArchiveStore): void {
  iq.accountFeatures.add(NS_MAM).add(NS_MAM_EXTENDED);

  iq.account.on('get', 'query', NS_MAM, (request, _payload, context) => {
    if (context.from.bare !== context.target.bare) return new StanzaError('forbidden', 'an archive is read by its owner only');
    const result = iqResult(request);
    result.c('query', { xmlns: NS_MAM }).cnode(mamSearchForm());
    return result;
  });

  iq.account.on('set', 'query', NS_MAM, async (request, payload, context) => {
    const owner = context.target.bare;
    if (context.from.bare !== owner) return new StanzaError('forbidden', 'an archive is read by its owner only');
    const query = readMamQuery(payload, owner);
    if (query instanceof StanzaError) return query;
    const page = await store.query(query);
    // XEP-0313 §4.1.4 / XEP-0059 §2.6: an id the archive does not hold.
    if ('unknownId' in page) return new StanzaError('item-not-found', `no message ${page.unknownId} in this archive`);
    const queryId = payload.attrs.queryid as string | undefined;
    const { results, fin } = renderMamPage(page, { archive: owner, to: context.from.full, queryId });
    for (const result of results) context.send(result);
    const answer = iqResult(request);
    answer.cnode(fin);
    return answer;
  });

  iq.account.on('get', 'metadata', NS_MAM, async (request, _payload, context) => {
    const owner = context.target.bare;
    if (context.from.bare !== owner) return new StanzaError('forbidden', 'an archive is read by its owner only');
    const bounds = await store.bounds(owner);
    const result = iqResult(request);
    const metadata = result.c('metadata', { xmlns: NS_MAM });
    if (bounds.first) metadata.cnode(new Element('start', { id: bounds.first.archiveId, timestamp: bounds.first.ts.toISOString() }));
    if (bounds.last) metadata.cnode(new Element('end', { id: bounds.last.archiveId, timestamp: bounds.last.ts.toISOString() }));
    return result;
  });
}
