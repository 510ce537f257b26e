import { Element } from 'ltx';
import type { Jid } from '../base/jid';
import { NS_CLIENT } from '../base/namespaces';
import { StanzaError } from '../base/stanza-error';

/** Who asked, and whom. */
export interface IqRequest {
  /** The requesting session's full JID. */
  readonly from: Jid;
  /** Who the iq is for: the domain (server handlers) or a user's bare JID (account handlers). */
  readonly target: Jid;
}

export interface IqContext extends IqRequest {
  /**
   * Sends a stanza to the requester before the iq's answer: XEP-0313 §4.1.2 (an archive query is
   * answered by result messages, then the iq result), XEP-0030 style paging alike. The stanzas go
   * out in the order sent and all before the answer; the session addresses them to the requester,
   * from the address the iq was sent to unless the handler set `from`. Only while the handler runs:
   * once it has answered, a late stanza would follow the result, so calling this throws.
   */
  send(stanza: Element): void;
}

/** Where a handler's interim stanzas go: the requesting session's output, in order. */
export type InterimSink = (stanza: Element) => void;

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

  /** Answers `iq`; interim stanzas of the handler go to `sink`, all before the answer is returned. */
  handle(iq: Element, request: IqRequest, sink?: InterimSink): IqAnswer | Promise<IqAnswer> {
    const payload = iq.children.find((c): c is Element => typeof c !== 'string');
    if (!payload) return new StanzaError('bad-request');
    const handler = this.handlers.get(`${payload.name} ${payload.attrs.xmlns as string}`)?.[iq.attrs.type as 'get' | 'set'];
    if (!handler) return new StanzaError('service-unavailable');
    let answering = true;
    const context: IqContext = {
      ...request,
      send: (stanza) => {
        if (!answering) throw new Error(`an interim stanza after the answer to iq '${String(iq.attrs.id)}'`);
        if (!sink) throw new Error('interim stanzas have nowhere to go');
        sink(stanza);
      },
    };
    let answer: IqAnswer | Promise<IqAnswer>;
    try {
      answer = handler(iq, payload, context);
    } catch (err) {
      answering = false;
      throw err;
    }
    if (!(answer instanceof Promise)) {
      answering = false;
      return answer;
    }
    return answer.finally(() => {
      answering = false;
    });
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
