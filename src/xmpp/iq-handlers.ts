import { Element } from 'ltx';
import type { Jid } from './jid';
import { NS_CLIENT } from './namespaces';
import { StanzaError } from './stanza-error';

export interface IqContext {
  /** The requesting session's full JID. */
  readonly from: Jid;
  /** Who the iq is for: the domain (server handlers) or a user's bare JID (account handlers). */
  readonly target: Jid;
}

/** A result element, or the error to answer with. */
export type IqAnswer = Element | StanzaError;

/** Answers one iq; may be async (stores). */
export type IqHandler = (iq: Element, payload: Element, context: IqContext) => IqAnswer | Promise<IqAnswer>;

/** Builds the empty result for an iq (RFC 6120 §8.2.3). */
export function iqResult(iq: Element): Element {
  return new Element('iq', { xmlns: NS_CLIENT, type: 'result', id: iq.attrs.id as string });
}

/**
 * Iq handlers keyed by the payload's name and namespace, for one kind of target. Anything without a
 * handler gets service-unavailable (RFC 6120 §8.4).
 */
export class IqHandlers {
  private readonly handlers = new Map<string, { get?: IqHandler; set?: IqHandler }>();

  on(type: 'get' | 'set', name: string, xmlns: string, handler: IqHandler): this {
    const key = `${name} ${xmlns}`;
    this.handlers.set(key, { ...this.handlers.get(key), [type]: handler });
    return this;
  }

  handles(name: string, xmlns: string): boolean {
    return this.handlers.has(`${name} ${xmlns}`);
  }

  handle(iq: Element, context: IqContext): IqAnswer | Promise<IqAnswer> {
    const payload = iq.children.find((c): c is Element => typeof c !== 'string');
    if (!payload) return new StanzaError('bad-request');
    const handler = this.handlers.get(`${payload.name} ${payload.attrs.xmlns as string}`)?.[iq.attrs.type as 'get' | 'set'];
    return handler ? handler(iq, payload, context) : new StanzaError('service-unavailable');
  }
}

/**
 * The two places an iq from a client can be answered by the server itself (RFC 6120 §10.3, §10.5.4):
 * addressed to the domain (or to nobody), or to a user's bare JID (the server answers for the account).
 */
export interface IqRouting {
  readonly server: IqHandlers;
  readonly account: IqHandlers;
  /** Namespaces advertised in disco#info of the server and of accounts (XEP-0030). */
  readonly serverFeatures: Set<string>;
  readonly accountFeatures: Set<string>;
}

export function createIqRouting(): IqRouting {
  return { server: new IqHandlers(), account: new IqHandlers(), serverFeatures: new Set(), accountFeatures: new Set() };
}
