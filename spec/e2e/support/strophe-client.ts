/**
 * A thin promise-based harness around a real Strophe.js 5 connection running
 * in Node over BOSH. Strophe's Node build brings its own DOM (@xmldom/xmldom)
 * and WebSocket (ws) but no XMLHttpRequest, which its BOSH transport needs:
 * importing this module installs the node:http XMLHttpRequest shim from
 * ./xhr and an in-memory sessionStorage (for the `keepalive` option).
 *
 * Every client records its raw BOSH traffic (Strophe's rawInput/rawOutput
 * hooks) so that a failing expectation can print the exact exchange.
 */
import { Strophe, $iq, $msg, $pres } from 'strophe.js';
import type { Element as XmlElement } from '@xmldom/xmldom';
import { installXMLHttpRequest, destroyXhrAgents } from './xhr';
import { installSessionStorage } from './session-storage';
import { until } from './until';

installXMLHttpRequest();
installSessionStorage();
// Strophe logs at DEBUG by default; keep its own errors visible, nothing else.
Strophe.setLogLevel(Strophe.LogLevel.ERROR);

export { Strophe, $iq, $msg, $pres, destroyXhrAgents };
export type { XmlElement };

export type Connection = InstanceType<typeof Strophe.Connection>;
export type ConnectionOptions = ConstructorParameters<typeof Strophe.Connection>[1];

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_PING = 'urn:xmpp:ping';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Strophe.Status as Record<string, number>).map(([name, code]) => [code, name]));

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `UNKNOWN(${code})`;
}

export interface StatusEvent {
  status: string;
  condition: string | null;
  elem?: XmlElement;
}

const TERMINAL_FAILURES = ['CONNFAIL', 'AUTHFAIL', 'ERROR', 'CONNTIMEOUT', 'DISCONNECTED'];

/** The private Strophe internals the harness needs to simulate a tab being closed. */
interface StropheInternals {
  _idleTimeout: ReturnType<typeof setTimeout> | null;
  _data: unknown[];
  connected: boolean;
  connect_callback: unknown;
  _proto: {
    sid: string | null;
    rid: number;
    _requests: Array<{ date: number }>;
    _abortAllRequests(): void;
  };
}

export class StropheClient {
  readonly conn: Connection;
  readonly statuses: StatusEvent[] = [];
  readonly traffic: string[] = [];
  /** Every message/presence delivered to the client's handlers since creation. */
  readonly inbox: XmlElement[] = [];
  private statusWaiters: Array<() => void> = [];
  private stanzaWaiters: Array<() => void> = [];

  constructor(
    readonly label: string,
    readonly boshUrl: string,
    options: ConnectionOptions = {},
  ) {
    this.conn = new Strophe.Connection(boshUrl, options);
    this.conn.rawInput = (data: string) => this.record('RECV', data);
    this.conn.rawOutput = (data: string) => this.record('SENT', data);
    // iq is deliberately not captured: an iq get/set that no handler matches
    // must reach Strophe's service-unavailable fallback (RFC 6120 §8.2.3).
    for (const name of ['message', 'presence']) {
      this.conn.addHandler(
        (stanza: XmlElement) => {
          this.inbox.push(stanza);
          for (const wake of this.stanzaWaiters.splice(0)) wake();
          return true;
        },
        null,
        name,
        null,
        null,
        null,
      );
    }
  }

  /** The JID the connection is bound to (full JID once CONNECTED). */
  get jid(): string {
    return this.conn.jid;
  }

  get internals(): StropheInternals {
    return this.conn as unknown as StropheInternals;
  }

  readonly onStatus = (status: number, condition: string | null, elem?: unknown): void => {
    const event: StatusEvent = { status: statusName(status), condition };
    if (elem) event.elem = elem as XmlElement;
    this.statuses.push(event);
    this.record('STATUS', `${event.status}${condition ? ` (${condition})` : ''}`);
    for (const wake of this.statusWaiters.splice(0)) wake();
  };

  /** Start a login; resolve with the first of CONNECTED or a failure status, whichever comes. */
  attemptLogin(jid: string, password: string, timeoutMs = 10_000): Promise<StatusEvent> {
    const from = this.statuses.length;
    this.conn.connect(jid, password, this.onStatus);
    return this.waitForStatus(['CONNECTED', ...TERMINAL_FAILURES], timeoutMs, from);
  }

  /** Log in and resolve when CONNECTED; reject with the BOSH exchange on any failure status. */
  async login(jid: string, password: string, timeoutMs = 10_000): Promise<void> {
    const ev = await this.attemptLogin(jid, password, timeoutMs);
    if (ev.status !== 'CONNECTED') {
      throw new Error(`${this.label}: login as ${jid} ended in ${ev.status} (${ev.condition ?? 'no condition'})\n${this.dump()}`);
    }
  }

  /** Resolve with the first status event (already seen or future) whose name is in `names`. */
  waitForStatus(names: string[], timeoutMs = 10_000, from = 0): Promise<StatusEvent> {
    return this.until(() => this.statuses.slice(from).find((s) => names.includes(s.status)), this.statusWaiters, timeoutMs, `status ${names.join('|')}`);
  }

  /** Resolve with the first received stanza named `name` matching `pred` (already received or future). */
  waitForStanza(name: 'message' | 'presence', pred: (el: XmlElement) => boolean, timeoutMs = 5_000): Promise<XmlElement> {
    return this.until(() => this.inbox.find((el) => el.nodeName === name && pred(el)), this.stanzaWaiters, timeoutMs, `a matching <${name}/>`);
  }

  /** Send an iq and resolve with the response (type result or error); reject on timeout. */
  iq(stanza: ReturnType<typeof $iq>, timeoutMs = 5_000): Promise<XmlElement> {
    return new Promise((resolve, reject) => {
      this.conn.sendIQ(
        stanza,
        (res: unknown) => resolve(res as XmlElement),
        (err: unknown) => {
          if (err) resolve(err as XmlElement);
          else reject(new Error(`${this.label}: no response to iq within ${timeoutMs} ms\n${this.dump()}`));
        },
        timeoutMs,
      );
    });
  }

  /** XEP-0199 ping to `to` (the server domain by default). */
  ping(to = 'localhost', timeoutMs = 5_000): Promise<XmlElement> {
    return this.iq($iq({ type: 'get', to }).c('ping', { xmlns: NS_PING }), timeoutMs);
  }

  /**
   * Send initial presence (RFC 6121 §4.2) and wait until the server has
   * processed it: stanzas on one stream are handled in order (RFC 6120 §10.1),
   * so the reply to a ping sent right after it proves the presence went first.
   */
  async becomeAvailable(): Promise<void> {
    this.conn.send($pres());
    const pong = await this.ping();
    if (pong.getAttribute('type') !== 'result') {
      throw new Error(`${this.label}: ping after initial presence failed\n${this.dump()}`);
    }
  }

  sendChat(to: string, body: string): void {
    this.conn.send($msg({ to, type: 'chat' }).c('body').t(body));
  }

  /** Wait for a chat message with exactly this body. */
  waitForChat(body: string, timeoutMs = 5_000): Promise<XmlElement> {
    return this.waitForStanza('message', (m) => bodyOf(m) === body, timeoutMs);
  }

  /** Graceful disconnect (XEP-0124 §13); resolves at DISCONNECTED, whatever came before it. */
  async disconnect(timeoutMs = 8_000): Promise<StatusEvent[]> {
    const from = this.statuses.length;
    if (!this.isLive()) return [];
    this.conn.disconnect();
    await this.waitForStatus(['DISCONNECTED'], timeoutMs, from);
    return this.statuses.slice(from);
  }

  /** Best effort, for afterAll: never throws. */
  async close(): Promise<void> {
    try {
      if (this.isLive()) await this.disconnect(5_000);
    } catch {
      this.abandon();
    }
  }

  private isLive(): boolean {
    return this.internals.connected;
  }

  /** The BOSH session as a page would cache it: jid, sid and the next rid to use. */
  session(): { jid: string; sid: string; rid: number } {
    const proto = this.internals._proto;
    if (!proto.sid) throw new Error(`${this.label}: no BOSH sid`);
    return { jid: this.conn.jid, sid: proto.sid, rid: proto.rid };
  }

  /**
   * Wait until the connection is idle: nothing queued here and exactly one request outstanding,
   * which the server holds with nothing queued for it (XEP-0124 §8). `serverHolds(sid)` reads
   * the server's side (the in-process gateway's transport).
   */
  async quiesce(serverHolds: (sid: string) => boolean, timeoutMs = 5_000): Promise<void> {
    const c = this.internals;
    const idle = (): boolean => c._data.length === 0 && c._proto._requests.length === 1 && serverHolds(c._proto.sid ?? '');
    await until(() => `${this.label}: the connection to go idle\n${this.dump()}`, idle, timeoutMs, 20);
  }

  /**
   * What closing or reloading a browser tab does to a live Strophe connection:
   * its timers stop and its in-flight XHRs are aborted (their sockets closed),
   * without any terminate request being sent. The BOSH session stays alive on
   * the server until its inactivity timeout (XEP-0124 §10).
   */
  abandon(): void {
    const c = this.internals;
    if (c._idleTimeout) clearTimeout(c._idleTimeout);
    c._idleTimeout = null;
    c.connected = false;
    c.connect_callback = null;
    c._proto._abortAllRequests();
    this.record('STATUS', 'ABANDONED (tab closed)');
  }

  /** The recorded exchange, for failure messages. */
  dump(last = 40): string {
    const lines = this.traffic.slice(-last);
    return `--- ${this.label} BOSH traffic (last ${lines.length} of ${this.traffic.length}) ---\n${lines.join('\n')}`;
  }

  /** Mechanisms offered in <stream:features/> and the one Strophe chose, read off the wire. */
  saslNegotiation(): { offered: string[]; chosen: string | null } {
    const recv = this.traffic.filter((l) => l.includes(' RECV ')).join('\n');
    const sent = this.traffic.filter((l) => l.includes(' SENT ')).join('\n');
    const offered = [...recv.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]!);
    const chosen = /<auth\b[^>]*\bmechanism=["']([^"']+)["']/.exec(sent)?.[1] ?? null;
    return { offered, chosen };
  }

  private record(kind: string, data: string): void {
    this.traffic.push(`${new Date().toISOString().slice(11, 23)} ${kind} ${data}`);
  }

  private until<T>(probe: () => T | undefined, waiters: Array<() => void>, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const found = probe();
      if (found !== undefined) {
        resolve(found);
        return;
      }
      const wake = (): void => {
        const hit = probe();
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else {
          waiters.push(wake);
        }
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(wake);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.dump()}`));
      }, timeoutMs);
      waiters.push(wake);
    });
  }
}

export function bodyOf(stanza: XmlElement): string | null {
  const body = stanza.getElementsByTagName('body')[0];
  return body ? body.textContent : null;
}

/** The first child element of an <error/> child, i.e. the defined condition (RFC 6120 §8.3.3). */
export function errorOf(stanza: XmlElement): { type: string | null; condition: string | null; ns: string | null } {
  const error = stanza.getElementsByTagName('error')[0];
  if (!error) return { type: null, condition: null, ns: null };
  let condition: XmlElement | null = null;
  for (let n = error.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as XmlElement).namespaceURI === NS_STANZAS && (n as XmlElement).localName !== 'text') {
      condition = n as XmlElement;
      break;
    }
  }
  return {
    type: error.getAttribute('type'),
    condition: condition ? condition.localName : null,
    ns: condition ? condition.namespaceURI : null,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
