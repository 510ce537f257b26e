import { Element } from 'ltx';
import type { Jid } from './jid';
import { NS_BIND, NS_CLIENT, NS_PING, NS_SESSION } from './namespaces';
import { StanzaError } from './stanza-error';

export interface IqContext {
  readonly jid: Jid;
  readonly domain: string;
}

/** Answers one iq addressed to the server: a result element, or the error to reply with. */
export type IqHandler = (iq: Element, payload: Element, context: IqContext) => Element | StanzaError;

/** Builds the empty result for an iq (RFC 6120 §8.2.3). */
export function iqResult(iq: Element): Element {
  return new Element('iq', { xmlns: NS_CLIENT, type: 'result', id: iq.attrs.id as string });
}

/**
 * The iq handlers of the server itself, keyed by the payload's name and namespace. Anything without
 * a handler gets service-unavailable (RFC 6120 §8.4).
 */
export class ServerIqHandlers {
  private readonly handlers = new Map<string, { get?: IqHandler; set?: IqHandler }>();

  on(type: 'get' | 'set', name: string, xmlns: string, handler: IqHandler): this {
    const key = `${name} ${xmlns}`;
    this.handlers.set(key, { ...this.handlers.get(key), [type]: handler });
    return this;
  }

  handle(iq: Element, context: IqContext): Element | StanzaError {
    const payload = iq.children.find((c): c is Element => typeof c !== 'string');
    if (!payload) return new StanzaError('bad-request');
    const handler = this.handlers.get(`${payload.name} ${payload.attrs.xmlns as string}`)?.[iq.attrs.type as 'get' | 'set'];
    return handler ? handler(iq, payload, context) : new StanzaError('service-unavailable');
  }
}

/** The handlers every session has: XEP-0199 ping, the legacy session iq, and a second bind. */
export function coreServerIq(): ServerIqHandlers {
  return (
    new ServerIqHandlers()
      // XEP-0199 §4.2: a ping to the server is answered with an empty result.
      .on('get', 'ping', NS_PING, (iq) => iqResult(iq))
      // RFC 3921 §3: establishing a session is a no-op today.
      .on('set', 'session', NS_SESSION, (iq) => iqResult(iq))
      // RFC 6120 §7.7.2.1: one resource per stream.
      .on('set', 'bind', NS_BIND, () => new StanzaError('not-allowed', 'a resource is already bound'))
  );
}
