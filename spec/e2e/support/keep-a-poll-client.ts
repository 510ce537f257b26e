/**
 * A BOSH client written straight from XEP-0124/XEP-0206 over node:http (one keep-alive agent, six
 * sockets per host like a browser), behaving the way many hand-written web clients do:
 *
 *  - it keeps exactly one empty poll outstanding and re-polls in the same tick a poll's answer lands;
 *  - stanzas travel in requests of their own, next to the poll (at most `requests` in flight, §11);
 *  - when a stanza is waiting and no poll is out, the stanza request and the next poll leave in the
 *    same instant (two rids, one tick);
 *  - it reads responses in rid order (§14.2), resends a request answered with a recoverable error
 *    together with every earlier unanswered one (§17.3), and resends the same body after a network
 *    error (§14.3 lets it: the server answers a repeated rid from its cache).
 *
 * Every request and answer is recorded (`wire`) so a test can show the pattern, and every terminal
 * answer (type='terminate') is kept in `terminals`: a test asserts there is none.
 */
import { Agent } from 'node:http';
import type { Element } from 'ltx';
import { parseStrictXml } from '../../../src/xml';
import { postOnAgent as post } from './raw-http';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const NS_CLIENT = 'jabber:client';

export type RequestKind = 'login' | 'poll' | 'stanza' | 'terminate';

export interface WireEvent {
  /** Milliseconds since the client was created. */
  readonly at: number;
  readonly direction: 'sent' | 'answered';
  readonly rid: number;
  readonly kind: RequestKind;
  /** For 'sent': the try (1 = first); for 'answered': what came back. */
  readonly note: string;
  /** Requests outstanding right after this event. */
  readonly outstanding: readonly number[];
}

interface Outstanding {
  readonly rid: number;
  readonly kind: RequestKind;
  readonly body: string;
  tries: number;
}

export interface KeepAPollOptions {
  /** Where each request goes: one URL, or a choice per request (e.g. stanzas to one node, polls to another). */
  readonly url: string | ((kind: RequestKind, rid: number) => string);
  /** The `wait` asked for at session creation (seconds). */
  readonly wait?: number;
  readonly label?: string;
}

export class KeepAPollClient {
  readonly label: string;
  readonly wire: WireEvent[] = [];
  /** Every stanza received, in rid order. */
  readonly inbox: Element[] = [];
  /** Terminal answers (type='terminate'), each with its condition: must stay empty while chatting. */
  readonly terminals: Array<{ rid: number; condition: string }> = [];
  /** Recoverable errors (§17.3) and network errors that made the client resend. */
  readonly resends: Array<{ rid: number; why: string }> = [];
  /** What the server granted at session creation. */
  granted: { wait: number; hold: number; requests: number } = { wait: 0, hold: 0, requests: 0 };
  jid = '';

  private readonly agent = new Agent({ keepAlive: true, maxSockets: 6 });
  private readonly started = Date.now();
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly answers = new Map<number, Element | null>();
  private readonly listeners: Array<(stanza: Element) => void> = [];
  private waiters: Array<() => void> = [];
  private queue: string[] = [];
  private rid = Math.floor(Math.random() * 1e9) + 1e6;
  private nextToRead = 0;
  private sid = '';
  private running = false;
  private closed = false;

  constructor(private readonly options: KeepAPollOptions) {
    this.label = options.label ?? 'keep-a-poll client';
  }

  get sessionId(): string {
    return this.sid;
  }

  /** Session creation, SASL PLAIN, restart, bind (one request at a time), then the poll loop. */
  async login(user: string, domain: string, password: string, resource: string): Promise<void> {
    const wait = this.options.wait ?? 60;
    const created = await this.exchange(
      `<body rid='${this.rid}' to='${domain}' wait='${wait}' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='${NS_HTTPBIND}'/>`,
    );
    this.sid = String(created.attrs.sid ?? '');
    if (!this.sid) throw new Error(`${this.label}: no session: ${created.toString()}`);
    this.granted = { wait: Number(created.attrs.wait), hold: Number(created.attrs.hold), requests: Number(created.attrs.requests) };
    const auth = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const authReply = await this.exchange(this.wrap(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`));
    if (!authReply.getChild('success')) throw new Error(`${this.label}: login failed: ${authReply.toString()}`);
    await this.exchange(this.wrap('', ` xmpp:restart='true' to='${domain}' xmlns:xmpp='urn:xmpp:xbosh'`));
    const bound = await this.exchange(
      this.wrap(`<iq type='set' id='bind' xmlns='${NS_CLIENT}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`),
    );
    this.jid = bound.getChild('iq')?.getChild('bind')?.getChildText('jid') ?? '';
    if (!this.jid) throw new Error(`${this.label}: bind failed: ${bound.toString()}`);
    this.nextToRead = this.rid;
    this.running = true;
    this.pump();
  }

  /** Queues a stanza; it leaves at once in a request of its own if `requests` allows. */
  send(xml: string): void {
    this.queue.push(xml);
    this.pump();
  }

  sendChat(to: string, body: string): void {
    this.send(`<message to='${to}' type='chat' xmlns='${NS_CLIENT}'><body>${body}</body></message>`);
  }

  /** Calls `listener` for every stanza, in rid order, in the tick its response is read; returns an unsubscribe. */
  onStanza(listener: (stanza: Element) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Resolves with the first stanza (received before or later) that passes `test`. */
  waitFor(test: (stanza: Element) => boolean, timeoutMs: number, what: string): Promise<Element> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.inbox.find(test);
        if (found) resolve(found);
        else if (this.terminals.length > 0)
          reject(new Error(`${this.label}: session ended (${JSON.stringify(this.terminals)}) while waiting for ${what}\n${this.dump()}`));
        return found !== undefined || this.terminals.length > 0;
      };
      if (check()) return;
      const wake = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== wake);
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.dump()}`));
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }

  /** Chat bodies received from `from` (bare or full JID prefix), in arrival order. */
  chatsFrom(from: string): string[] {
    return this.inbox.filter((s) => s.name === 'message' && String(s.attrs.from ?? '').startsWith(from)).map((s) => s.getChildText('body') ?? '');
  }

  /** Logs off (§13) and releases the sockets. */
  async terminate(): Promise<void> {
    if (this.closed || !this.sid) return this.destroy();
    this.running = false;
    this.closed = true;
    const rid = this.rid++;
    const body = `<body rid='${rid}' sid='${this.sid}' type='terminate' xmlns='${NS_HTTPBIND}'><presence type='unavailable' xmlns='${NS_CLIENT}'/></body>`;
    this.record('sent', rid, 'terminate', 'try 1');
    await post(this.agent, this.urlFor('terminate', rid), body).catch(() => undefined);
    this.destroy();
  }

  destroy(): void {
    this.running = false;
    this.closed = true;
    this.agent.destroy();
  }

  /** The recorded wire pattern, one line per event. */
  dump(last = 40): string {
    const lines = this.wire.slice(-last).map(formatWireEvent);
    return `--- ${this.label} wire (last ${lines.length} of ${this.wire.length}) ---\n${lines.join('\n')}`;
  }

  // ---- the request loop ----

  /** Stanzas first (their own request), then a poll if none is out: both may leave in this tick. */
  private pump(): void {
    if (!this.running) return;
    if (this.queue.length > 0 && this.outstanding.size < this.granted.requests) {
      const inner = this.queue.join('');
      this.queue = [];
      this.fire('stanza', inner);
    }
    const pollOut = [...this.outstanding.values()].some((o) => o.kind === 'poll');
    if (!pollOut && this.outstanding.size < this.granted.requests) this.fire('poll', '');
  }

  private fire(kind: RequestKind, inner: string): void {
    const entry: Outstanding = { rid: this.rid, kind, body: this.wrap(inner), tries: 0 };
    this.rid++;
    this.outstanding.set(entry.rid, entry);
    this.transmit(entry);
  }

  /** Sends (or resends) a request; only the answer to its latest transmission counts. */
  private transmit(entry: Outstanding): void {
    const attempt = ++entry.tries;
    this.record('sent', entry.rid, entry.kind, `try ${attempt}`);
    post(this.agent, this.urlFor(entry.kind, entry.rid), entry.body).then(
      ({ status, text }) => {
        if (entry.tries === attempt) this.received(entry, status, text);
      },
      (err: Error) => {
        if (entry.tries === attempt) this.failed(entry, `network error: ${err.message}`);
      },
    );
  }

  private received(entry: Outstanding, status: number, text: string): void {
    if (this.closed || this.outstanding.get(entry.rid) !== entry) return;
    if (status !== 200) {
      this.failed(entry, `HTTP ${status}`);
      return;
    }
    const body = parseStrictXml(text);
    if (body.attrs.type === 'terminate') {
      const condition = String(body.attrs.condition ?? 'none');
      this.terminals.push({ rid: entry.rid, condition });
      this.record('answered', entry.rid, entry.kind, `TERMINATE ${condition}`);
      this.running = false;
      this.wake();
      return;
    }
    if (body.attrs.type === 'error') {
      // §17.3: resend this request and every earlier one still unanswered, bodies unchanged.
      this.record('answered', entry.rid, entry.kind, 'recoverable error');
      for (const earlier of [...this.outstanding.values()].filter((o) => o.rid <= entry.rid).sort((a, b) => a.rid - b.rid)) {
        this.resends.push({ rid: earlier.rid, why: `recoverable error on ${entry.rid}` });
        this.transmit(earlier);
      }
      return;
    }
    this.outstanding.delete(entry.rid);
    const stanzas = body.children.filter((c): c is Element => typeof c !== 'string');
    this.record('answered', entry.rid, entry.kind, stanzas.length === 0 ? 'empty' : stanzas.map(describeStanza).join(', '));
    this.answers.set(entry.rid, body);
    this.readInOrder();
    this.pump();
  }

  private failed(entry: Outstanding, why: string): void {
    if (this.closed || this.outstanding.get(entry.rid) !== entry) return;
    this.resends.push({ rid: entry.rid, why });
    this.record('answered', entry.rid, entry.kind, why);
    if (entry.tries >= 5) {
      this.terminals.push({ rid: entry.rid, condition: `gave up: ${why}` });
      this.running = false;
      this.wake();
      return;
    }
    // §14.3: the same rid again; a browser client retries at once the first time, then backs off.
    const delay = entry.tries === 1 ? 0 : 200 * entry.tries;
    setTimeout(() => {
      if (!this.closed && this.outstanding.get(entry.rid) === entry) this.transmit(entry);
    }, delay);
  }

  /** §14.2: payloads are handled in rid order, whatever order the answers came back in. */
  private readInOrder(): void {
    for (let body = this.answers.get(this.nextToRead); body !== undefined; body = this.answers.get(this.nextToRead)) {
      this.answers.delete(this.nextToRead);
      this.nextToRead++;
      if (body === null) continue;
      for (const child of body.children) {
        if (typeof child === 'string') continue;
        child.parent = null;
        this.inbox.push(child);
        for (const listener of this.listeners) listener(child);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  // ---- login steps ----

  /** One request answered before the next leaves (the login sequence). */
  private async exchange(body: string): Promise<Element> {
    const rid = this.rid++;
    this.record('sent', rid, 'login', 'try 1');
    const { status, text } = await post(this.agent, this.urlFor('login', rid), body);
    this.record('answered', rid, 'login', `HTTP ${status}`);
    if (status !== 200) throw new Error(`${this.label}: HTTP ${status} during login: ${text}`);
    const answer = parseStrictXml(text);
    if (answer.attrs.type === 'terminate') throw new Error(`${this.label}: terminal answer during login: ${text}`);
    return answer;
  }

  private wrap(inner: string, extra = ''): string {
    return `<body rid='${this.rid}' sid='${this.sid}'${extra} xmlns='${NS_HTTPBIND}'>${inner}</body>`;
  }

  private urlFor(kind: RequestKind, rid: number): string {
    return typeof this.options.url === 'string' ? this.options.url : this.options.url(kind, rid);
  }

  private record(direction: WireEvent['direction'], rid: number, kind: RequestKind, note: string): void {
    this.wire.push({ at: Date.now() - this.started, direction, rid, kind, note, outstanding: [...this.outstanding.keys()] });
  }
}

/** A short label for the wire log: the stanza's name, type and chat body (test traffic only). */
function describeStanza(s: Element): string {
  const body = s.getChildText('body');
  return `${s.name}${s.attrs.type ? `/${String(s.attrs.type)}` : ''}${body !== null ? ` '${body}'` : ''}`;
}

export function formatWireEvent(e: WireEvent): string {
  const arrow = e.direction === 'sent' ? '→' : '←';
  return `${String(e.at).padStart(6)} ms ${arrow} rid ${e.rid} ${e.kind.padEnd(9)} ${e.note.padEnd(24)} outstanding [${e.outstanding.join(', ')}]`;
}
