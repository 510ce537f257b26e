import type { ComponentRegistry } from '../../components';
import type { AccountStore } from '../../store/account-store';
import { iqResult, type IqRouting } from '../iq-handlers';
import { StanzaError } from '../../base/stanza-error';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/**
 * XEP-0030 for the server (identity server/im) and for accounts (account/registered). The features
 * are whatever the other modules registered, so the answer never claims what is not served. The
 * server's items are its components (XEP-0030 §4: how clients find conference.<domain>).
 */
export function registerDisco(iq: IqRouting, accounts: AccountStore, components?: ComponentRegistry): void {
  iq.serverFeatures.add(NS_DISCO_INFO).add(NS_DISCO_ITEMS);
  iq.accountFeatures.add(NS_DISCO_INFO).add(NS_DISCO_ITEMS);

  iq.server.on('get', 'query', NS_DISCO_INFO, (request, payload) => {
    // XEP-0030 §3.1: no nodes are served.
    if (payload.attrs.node !== undefined) return new StanzaError('item-not-found');
    const result = iqResult(request);
    const query = result.c('query', { xmlns: NS_DISCO_INFO });
    query.c('identity', { category: 'server', type: 'im', name: 'bosh-gateway' });
    for (const feature of [...iq.serverFeatures].sort()) query.c('feature', { var: feature });
    return result;
  });
  iq.server.on('get', 'query', NS_DISCO_ITEMS, (request, payload) => {
    if (payload.attrs.node !== undefined) return new StanzaError('item-not-found');
    const result = iqResult(request);
    const query = result.c('query', { xmlns: NS_DISCO_ITEMS });
    for (const component of components?.list() ?? []) {
      const item = query.c('item', { jid: component.domain });
      if (component.name !== undefined) item.attrs.name = component.name;
    }
    return result;
  });

  iq.account.on('get', 'query', NS_DISCO_INFO, async (request, payload, context) => {
    if (payload.attrs.node !== undefined) return new StanzaError('item-not-found');
    if (!(await accounts.exists(context.target.local))) return new StanzaError('service-unavailable');
    const result = iqResult(request);
    const query = result.c('query', { xmlns: NS_DISCO_INFO });
    query.c('identity', { category: 'account', type: 'registered' });
    for (const feature of [...iq.accountFeatures].sort()) query.c('feature', { var: feature });
    return result;
  });
  iq.account.on('get', 'query', NS_DISCO_ITEMS, async (request, payload, context) => {
    if (payload.attrs.node !== undefined) return new StanzaError('item-not-found');
    if (!(await accounts.exists(context.target.local))) return new StanzaError('service-unavailable');
    const result = iqResult(request);
    result.c('query', { xmlns: NS_DISCO_ITEMS });
    return result;
  });
}
