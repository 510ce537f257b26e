import { Element, parse } from 'ltx';
import { realScheduler } from '../../../src/bosh/scheduler';
import { AuthThrottle } from '../../../src/limits/auth-throttle';
import { MemoryFailureCounters } from '../../../src/limits/failure-counters';
import { createLogger } from '../../../src/observability/logger';
import type { ResourceConflictPolicy } from '../../../src/base/resource-conflict';
import type { Router } from '../../../src/routing/router';
import { AuthCache } from '../../../src/store/auth-cache';
import { MemoryAccountStore } from '../../../src/store/memory-account-store';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { MemoryRosterStore } from '../../../src/store/roster-store';
import { MemoryXmlStore } from '../../../src/store/xml-store';
import { DEFAULT_ACCOUNT_LIMITS, type AccountLimits } from '../../../src/xmpp/account-limits';
import { createXmppDomain, type XmppDomain } from '../../../src/xmpp/domain';
import type { Timers } from '../../../src/xmpp/services';
import { NS_SASL } from '../../../src/base/namespaces';
import { silentXmppObserver } from '../../../src/xmpp/observer';
import type { SessionActor } from '../../../src/xmpp/session-actor';
import type { StreamOutput } from '../../../src/base/stream';

export const DOMAIN = 'localhost';

/** A StreamOutput that records what the actor sends and whether (and how) it closed the stream. */
export class RecordingOutput implements StreamOutput {
  readonly sent: Element[] = [];
  closed = false;
  streamError: Element | undefined;
  /** Elements sent after close(): a transport would drop them, the actor should not produce them. */
  readonly sentAfterClose: Element[] = [];

  send(element: Element): void {
    if (this.closed) this.sentAfterClose.push(element);
    else this.sent.push(element);
  }

  close(streamError?: Element): void {
    this.closed = true;
    this.streamError = streamError;
  }

  /** The stream error's defined condition (RFC 6120 §4.9.3), if the stream was closed with one. */
  get streamErrorCondition(): string | undefined {
    return this.streamError?.children.find(
      (c): c is Element => typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-streams' && c.name !== 'text',
    )?.name;
  }
}

/** Lets the event loop (and the libuv pool that runs PBKDF2) turn until `check` holds. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Lets pending work settle when a test expects that nothing (more) happens. Time is the subject:
 * no event marks an absence, so a negative check lets ~20 timer turns pass; an ordering barrier
 * waits for its event instead (sync(), domain.settle(), next()).
 */
export async function quiesce(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

export function xml(text: string): Element {
  return parse(text);
}

/** The defined condition inside a stanza's <error/> (RFC 6120 §8.3.2). */
export function stanzaErrorOf(stanza: Element): { type: string | undefined; condition: string | undefined } {
  const error = stanza.getChild('error');
  const condition = error?.children.find(
    (c): c is Element => typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
  )?.name;
  return { type: error?.attrs.type as string | undefined, condition };
}

export interface WorldOptions {
  readonly resourceConflict?: ResourceConflictPolicy;
  readonly maxAuthFailures?: number;
  /** XEP-0160 messages kept per offline user; 0 makes every undeliverable message bounce. */
  readonly offlinePerUser?: number;
  /** Total bytes of the offline messages kept per user. */
  readonly offlineBytesPerUser?: number;
  readonly maxInboxStanzas?: number;
  /** The login deadline (0, the default here: none). */
  readonly loginTimeoutMs?: number;
  readonly accountLimits?: Partial<AccountLimits>;
  /** Timers for deadlines (a FakeScheduler in tests of them). */
  readonly timers?: Timers;
  /** Whether the stores count as reachable (false: failures are an outage, answered with 'wait'). */
  readonly storesReady?: () => boolean;
}

/** One server domain wired as the node wires it (createXmppDomain): real Router and MemoryAccountStore. */
export class World {
  readonly accounts: MemoryAccountStore;
  readonly domain: XmppDomain;
  readonly router: Router;

  constructor(options: WorldOptions = {}) {
    this.accounts = new MemoryAccountStore(4096, new AuthCache(100, 60_000));
    this.domain = createXmppDomain(
      {
        accounts: this.accounts,
        rosters: new MemoryRosterStore(),
        offline: new MemoryOfflineStore(options.offlinePerUser ?? 100, options.offlineBytesPerUser),
        documents: new MemoryXmlStore(),
      },
      {
        domain: DOMAIN,
        version: '0.0.0-test',
        scramIterations: 4096,
        resourceConflict: options.resourceConflict ?? 'replace',
        limits: {
          maxAuthFailures: options.maxAuthFailures ?? 3,
          maxSessionsPerAccount: 10,
          stanzasPerSecond: 10_000,
          stanzaBurst: 10_000,
          maxInboxStanzas: options.maxInboxStanzas ?? 1000,
          loginTimeoutMs: options.loginTimeoutMs ?? 0,
        },
        // No delays: these tests are about the session; spec/limits/ tests the throttle.
        authThrottle: new AuthThrottle(
          { delayMs: 0, delayMaxMs: 0, accountDelayMaxMs: 0, pendingPerPair: 1000, pendingPerAddress: 1000 },
          new MemoryFailureCounters(60_000),
          realScheduler,
        ),
        accountLimits: { ...DEFAULT_ACCOUNT_LIMITS, ...options.accountLimits },
        timers: options.timers,
        storesReady: options.storesReady,
        logger: createLogger('silent'),
        observer: silentXmppObserver,
      },
    );
    this.router = this.domain.services.router;
  }

  static async with(users: Record<string, string>, options: WorldOptions = {}): Promise<World> {
    const world = new World(options);
    for (const [name, password] of Object.entries(users)) await world.accounts.setPassword(name, password);
    return world;
  }

  open(): Client {
    return new Client(this);
  }

  /** A client that has authenticated with PLAIN, restarted and bound `resource` (generated when undefined). */
  async login(username: string, password: string, resource?: string): Promise<Client> {
    const client = this.open();
    await client.authenticate(username, password);
    client.actor.restart();
    const bound = await client.bind(resource);
    if (bound.attrs.type !== 'result') throw new Error(`bind failed: ${bound.toString()}`);
    return client;
  }
}

let nextId = 0;

/** One client stream: the actor plus what it sent, read with a cursor. */
export class Client {
  readonly output = new RecordingOutput();
  readonly actor: SessionActor;
  private cursor = 0;

  constructor(readonly world: World) {
    this.actor = world.domain.openStream(this.output, {
      domain: DOMAIN,
      lang: 'en',
      streamId: `stream-${++nextId}`,
      remoteAddress: '127.0.0.1',
    }) as SessionActor;
  }

  get jid(): string {
    return this.actor.jid.full;
  }

  send(stanza: string | Element): void {
    this.actor.receive(typeof stanza === 'string' ? xml(stanza) : stanza);
  }

  /** The next element sent after the cursor that satisfies `match` (default: any). */
  async next(match: (e: Element) => boolean = () => true, what = 'an element'): Promise<Element> {
    let found: Element | undefined;
    await until(() => {
      while (this.cursor < this.output.sent.length) {
        const element = this.output.sent[this.cursor++] as Element;
        if (match(element)) {
          found = element;
          return true;
        }
      }
      return false;
    }, what);
    return found as Element;
  }

  /** Everything sent after the cursor so far, moving the cursor to the end. */
  drain(): Element[] {
    const rest = this.output.sent.slice(this.cursor);
    this.cursor = this.output.sent.length;
    return rest;
  }

  async authenticate(username: string, password: string): Promise<Element> {
    await this.next((e) => e.name === 'stream:features', 'features');
    const data = Buffer.from(`\0${username}\0${password}`).toString('base64');
    this.send(new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(data));
    return this.next((e) => e.attrs.xmlns === NS_SASL, 'a SASL answer');
  }

  async bind(resource?: string): Promise<Element> {
    const id = `bind-${++nextId}`;
    const iq = new Element('iq', { type: 'set', id, xmlns: 'jabber:client' });
    const bind = iq.c('bind', { xmlns: 'urn:ietf:params:xml:ns:xmpp-bind' });
    if (resource !== undefined) bind.c('resource').t(resource);
    this.send(iq);
    return this.next((e) => e.name === 'iq' && e.attrs.id === id, `the answer to ${id}`);
  }

  /**
   * A ping round trip: the actor handles one element at a time, in order (RFC 6120 §10.1), so once the
   * answer is here everything this client sent before it has been processed.
   */
  async sync(): Promise<void> {
    const id = `sync-${++nextId}`;
    const answer = await this.iq(`<iq type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    if (answer.attrs.type !== 'result') throw new Error(`sync failed: ${answer.toString()}`);
  }

  /** Sends an iq and waits for the answer with its id. */
  async iq(text: string): Promise<Element> {
    const iq = xml(text);
    this.send(iq);
    return this.next((e) => e.name === 'iq' && e.attrs.id === iq.attrs.id, `the answer to iq ${String(iq.attrs.id)}`);
  }
}
