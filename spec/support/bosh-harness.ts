import { Element } from 'ltx';
import { BoshTransport } from '../../src/bosh/transport';
import type { BoshResponse, RequestHandle } from '../../src/bosh/session';
import type { BoshLimits } from '../../src/bosh/session-params';
import type { RefusalReason, StreamEndpoint, StreamEndReason, StreamOutput } from '../../src/base/stream';
import { FakeScheduler } from './fake-scheduler';

export const NS = 'http://jabber.org/protocol/httpbind';

/** A stream endpoint that records what the transport hands it and lets a test push output. */
export class RecordingEndpoint implements StreamEndpoint {
  received: Element[] = [];
  refused: Element[] = [];
  refusalReasons: RefusalReason[] = [];
  restarts = 0;
  ended: { reason: StreamEndReason; undelivered: readonly Element[]; rerouted?: (() => void) | undefined } | undefined;

  constructor(
    readonly output: StreamOutput,
    sendFeatures = true,
  ) {
    if (sendFeatures) this.sendFeatures();
  }

  sendFeatures(): void {
    this.output.send(new Element('stream:features').c('mechanisms', { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl' }).up());
  }

  restart(): void {
    this.restarts++;
  }

  receive(element: Element): void {
    this.received.push(element);
  }

  refuse(element: Element, reason: RefusalReason): void {
    this.refused.push(element);
    this.refusalReasons.push(reason);
  }

  end(reason: StreamEndReason, undelivered: readonly Element[], rerouted?: () => void): void {
    this.ended = { reason, undelivered, rerouted };
  }

  push(text: string): void {
    this.output.send(new Element('message', { xmlns: 'jabber:client' }).c('body').t(text).up());
  }
}

/** One HTTP exchange as the session sees it: the response arrives (or not yet) asynchronously. */
export class Exchange {
  response: BoshResponse | undefined;
  handle: RequestHandle | undefined;
  count = 0;

  get answered(): boolean {
    return this.response !== undefined;
  }

  get body(): string {
    if (!this.response) throw new Error('not answered yet');
    return this.response.body;
  }

  /** Message bodies carried by the response, in order. */
  get texts(): string[] {
    return [...this.body.matchAll(/<body>([^<]*)<\/body>/g)].map((m) => m[1] as string);
  }

  /** An attribute of the response <body/>; undefined while unanswered. */
  attr(name: string): string | undefined {
    if (!this.response) return undefined;
    const match = new RegExp(`^<body[^>]*\\s${name}='([^']*)'`).exec(this.body);
    return match?.[1];
  }
}

export const DEFAULT_LIMITS: BoshLimits = { maxWait: 60, maxHold: 2, inactivity: 30, polling: 2, maxPause: 120, confirmationPromptMs: 1000 };

export class Harness {
  readonly scheduler = new FakeScheduler();
  readonly endpoints: RecordingEndpoint[] = [];
  readonly transport: BoshTransport;

  constructor(limits: Partial<BoshLimits> = {}, maxStanzaBytes = 65_536, featuresAtOnce = true) {
    this.transport = new BoshTransport({
      limits: { ...DEFAULT_LIMITS, ...limits },
      domains: new Set(['localhost']),
      maxStanzaBytes,
      scheduler: this.scheduler,
      openStream: (output) => {
        const endpoint = new RecordingEndpoint(output, featuresAtOnce);
        this.endpoints.push(endpoint);
        return endpoint;
      },
    });
  }

  send(raw: string): Exchange {
    const exchange = new Exchange();
    exchange.handle = this.transport.handle(raw, { remoteAddress: '127.0.0.1' }, (response) => {
      exchange.count++;
      exchange.response = response;
    });
    this.scheduler.runDeferred();
    return exchange;
  }

  /** Opens a session; returns its sid and the endpoint behind it. */
  create(attrs = "wait='10' hold='1' ver='1.11'", rid = 1000): { sid: string; endpoint: RecordingEndpoint; creation: Exchange } {
    const creation = this.send(`<body rid='${rid}' to='localhost' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' ${attrs} xmlns='${NS}'/>`);
    const sid = creation.attr('sid');
    if (!sid) throw new Error(`no session: ${creation.response?.body}`);
    return { sid, endpoint: this.endpoints[this.endpoints.length - 1] as RecordingEndpoint, creation };
  }

  request(sid: string, rid: number, inner = '', extra = ''): Exchange {
    return this.send(`<body rid='${rid}' sid='${sid}' ${extra} xmlns='${NS}'>${inner}</body>`);
  }
}
