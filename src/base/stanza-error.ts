import { Element } from 'ltx';
import { cloneElement } from '../xml';
import { NS_CLIENT, NS_STANZAS } from './namespaces';

/** RFC 6120 §8.3.3 defined conditions (those this server raises). */
export type StanzaErrorCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'internal-server-error'
  | 'item-not-found'
  | 'jid-malformed'
  | 'not-acceptable'
  | 'not-allowed'
  | 'not-authorized'
  | 'policy-violation'
  | 'recipient-unavailable'
  | 'registration-required'
  | 'remote-server-not-found'
  | 'resource-constraint'
  | 'service-unavailable'
  | 'undefined-condition'
  | 'unexpected-request';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** RFC 6120 §8.3.3: the error type that goes with each condition. */
const DEFAULT_TYPE: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

/** A stanza-level error, thrown where the rule is broken and rendered once as an error reply. */
export class StanzaError extends Error {
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    readonly type: StanzaErrorType = DEFAULT_TYPE[condition],
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StanzaError';
  }

  toElement(): Element {
    const error = new Element('error', { type: this.type });
    error.c(this.condition, { xmlns: NS_STANZAS });
    if (this.text) error.c('text', { xmlns: NS_STANZAS }).t(this.text);
    return error;
  }
}

/**
 * RFC 6120 §8.3.1: the error reply to a stanza: addresses swapped, type='error', the original
 * payload kept, the <error/> appended. Undefined for an error stanza (errors are never answered).
 */
export function errorReply(stanza: Element, error: StanzaError): Element | undefined {
  if (stanza.attrs.type === 'error') return undefined;
  const reply = new Element(stanza.name, { xmlns: NS_CLIENT, type: 'error' });
  if (stanza.attrs.id !== undefined) reply.attrs.id = stanza.attrs.id;
  if (stanza.attrs.from !== undefined) reply.attrs.to = stanza.attrs.from;
  if (stanza.attrs.to !== undefined) reply.attrs.from = stanza.attrs.to;
  for (const child of stanza.children) {
    if (typeof child !== 'string') reply.cnode(cloneElement(child));
  }
  reply.cnode(error.toElement());
  return reply;
}
