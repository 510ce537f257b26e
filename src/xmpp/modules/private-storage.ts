import { Element } from 'ltx';
import type { XmlStore } from '../../store/xml-store';
import { parseStrictXml, serializeXml } from '../../xml';
import { iqResult, type IqContext, type IqRouting } from '../iq-handlers';
import { StanzaError } from '../../base/stanza-error';

export const NS_PRIVATE = 'jabber:iq:private';
const RESERVED = new Set(['jabber:client', 'jabber:server', 'jabber:iq:private', 'vcard-temp']);
const KEY_PREFIX = 'private ';

/** How much private XML one account may keep (docs/security.md). */
export interface PrivateStorageLimits {
  /** Distinct items (name + namespace). */
  readonly maxKeys: number;
  /** Bytes of one stored item. */
  readonly maxItemBytes: number;
}

/**
 * XEP-0049 private XML storage (Converse.js keeps XEP-0048 bookmarks here when PEP is absent).
 * Each child element is kept by name and namespace, for its owner only.
 */
export function registerPrivateStorage(iq: IqRouting, store: XmlStore, limits: PrivateStorageLimits): void {
  const own = (context: IqContext): boolean => context.target.bare === context.from.bare;
  const key = (element: Element): string | undefined => {
    const xmlns = element.attrs.xmlns as string | undefined;
    if (!xmlns || RESERVED.has(xmlns)) return undefined;
    return `${KEY_PREFIX}${element.name} ${xmlns}`;
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
    const items = new Map<string, string>();
    for (const element of elements) {
      const storageKey = key(element);
      if (!storageKey) return new StanzaError('not-acceptable', 'reserved or missing namespace');
      // Measured on the string about to be stored: the item is serialised once.
      const xml = serializeXml(element);
      if (Buffer.byteLength(xml) > limits.maxItemBytes) return new StanzaError('not-acceptable', `an item may take at most ${limits.maxItemBytes} bytes`);
      items.set(storageKey, xml);
    }
    const user = context.from.local;
    const existing = new Set(await store.keysOf(user, KEY_PREFIX));
    let count = existing.size;
    for (const storageKey of items.keys()) if (!existing.has(storageKey)) count++;
    // Replacing an item is always allowed; a new one only while the account is under its limit.
    if (count > existing.size && count > limits.maxKeys) {
      return new StanzaError('policy-violation', `at most ${limits.maxKeys} items of private XML per account`);
    }
    for (const [storageKey, xml] of items) await store.set(user, storageKey, xml);
    return iqResult(request);
  };

  iq.account.on('get', 'query', NS_PRIVATE, get).on('set', 'query', NS_PRIVATE, set);
  iq.accountFeatures.add(NS_PRIVATE);
}
