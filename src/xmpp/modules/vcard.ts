import { Element } from 'ltx';
import type { AccountStore } from '../../store/account-store';
import type { XmlStore } from '../../store/xml-store';
import { parseStrictXml, serializeXml } from '../../xml';
import { iqResult, type IqRouting } from '../iq-handlers';
import { StanzaError } from '../../base/stanza-error';

export const NS_VCARD = 'vcard-temp';
const VCARD_KEY = 'vcard';

/** A user's stored vCard (by account name), undefined when none is stored: also what the MUC service answers for an occupant. */
export async function storedVCard(store: XmlStore, user: string): Promise<Element | undefined> {
  const stored = await store.get(user, VCARD_KEY);
  return stored ? parseStrictXml(stored) : undefined;
}

/**
 * XEP-0054: a user stores their own vCard (set with no 'to', or to their bare JID) and anyone can
 * fetch a user's vCard from that user's bare JID. An account without a vCard answers an empty one.
 */
export function registerVCard(iq: IqRouting, store: XmlStore, accounts: AccountStore, maxBytes: number): void {
  const get = async (request: Element, user: string): Promise<Element | StanzaError> => {
    if (!(await accounts.exists(user))) return new StanzaError('service-unavailable');
    const result = iqResult(request);
    result.cnode((await storedVCard(store, user)) ?? new Element('vCard', { xmlns: NS_VCARD }));
    return result;
  };
  const set = async (request: Element, payload: Element, from: string, target: string): Promise<Element | StanzaError> => {
    // §3.2: only the owner may publish.
    if (from !== target) return new StanzaError('forbidden', 'you may only set your own vCard');
    const xml = serializeXml(payload);
    // Measured on the string about to be stored.
    if (Buffer.byteLength(xml) > maxBytes) return new StanzaError('not-acceptable', `a vCard may take at most ${maxBytes} bytes`);
    await store.set(target, VCARD_KEY, xml);
    return iqResult(request);
  };

  // With no 'to' the request reaches these as the requester's own account (§3.1).
  iq.account.on('get', 'vCard', NS_VCARD, (request, _payload, context) => get(request, context.target.local));
  iq.account.on('set', 'vCard', NS_VCARD, (request, payload, context) => set(request, payload, context.from.local, context.target.local));
  iq.serverFeatures.add(NS_VCARD);
  iq.accountFeatures.add(NS_VCARD);
}
