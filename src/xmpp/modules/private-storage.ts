import { Element } from 'ltx';
import type { XmlStore } from '../../store/xml-store';
import { parseStrictXml } from '../../xml';
import { iqResult, type IqContext, type IqRouting } from '../iq-handlers';
import { StanzaError } from '../stanza-error';

export const NS_PRIVATE = 'jabber:iq:private';
const RESERVED = new Set(['jabber:client', 'jabber:server', 'jabber:iq:private', 'vcard-temp']);

/**
 * XEP-0049 private XML storage (Converse.js keeps XEP-0048 bookmarks here when PEP is absent).
 * Each child element is kept by name and namespace, for its owner only.
 */
export function registerPrivateStorage(iq: IqRouting, store: XmlStore, maxBytes: number): void {
  const own = (context: IqContext): boolean => context.target.bare === context.from.bare;
  const key = (element: Element): string | undefined => {
    const xmlns = element.attrs.xmlns as string | undefined;
    if (!xmlns || RESERVED.has(xmlns)) return undefined;
    return `private ${element.name} ${xmlns}`;
  };

  const get = async (request: Element, payload: Element, context: IqContext): Promise<Element | StanzaError> => {
    if (!own(context)) return new StanzaError('forbidden');
    const wanted = payload.children.filter((c): c is Element => typeof c !== 'string');
    // §3: exactly one child names what to retrieve.
    if (wanted.length !== 1) return new StanzaError('bad-request', 'name one element to retrieve');
    const element = wanted[0] as Element;
    const storageKey = key(element);
    if (!storageKey) return new StanzaError('not-acceptable', 'reserved or missing namespace');
    const stored = await store.get(context.from.local, storageKey);
    const result = iqResult(request);
    result.c('query', { xmlns: NS_PRIVATE }).cnode(stored ? parseStrictXml(stored) : new Element(element.name, { xmlns: element.attrs.xmlns }));
    return result;
  };

  const set = async (request: Element, payload: Element, context: IqContext): Promise<Element | StanzaError> => {
    if (!own(context)) return new StanzaError('forbidden');
    const elements = payload.children.filter((c): c is Element => typeof c !== 'string');
    if (elements.length === 0) return new StanzaError('bad-request', 'nothing to store');
    for (const element of elements) {
      if (!key(element)) return new StanzaError('not-acceptable', 'reserved or missing namespace');
      if (Buffer.byteLength(element.toString()) > maxBytes) return new StanzaError('not-acceptable', 'too large');
    }
    for (const element of elements) await store.set(context.from.local, key(element) as string, element.toString());
    return iqResult(request);
  };

  iq.account.on('get', 'query', NS_PRIVATE, get).on('set', 'query', NS_PRIVATE, set);
  iq.accountFeatures.add(NS_PRIVATE);
}
