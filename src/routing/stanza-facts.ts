import type { Element } from 'ltx';
import type { Jid } from '../base/jid';
import type { StanzaFacts } from '../events/events';
import { serializeXml } from '../xml';

/** A routed stanza as events report it: addresses, type and id, serialised as it is now. */
export function stanzaFacts(stanza: Element, to: Jid, node: string): StanzaFacts {
  return {
    node,
    at: new Date(),
    from: String(stanza.attrs.from ?? ''),
    to: to.full,
    // RFC 6121 §5.2.2: a message without a type is 'normal'.
    type: (stanza.attrs.type as string | undefined) ?? (stanza.name === 'message' ? 'normal' : ''),
    id: stanza.attrs.id as string | undefined,
    stanza: serializeXml(stanza),
  };
}
