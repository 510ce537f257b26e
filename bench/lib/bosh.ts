// Lean BOSH (XEP-0124/0206) client for the load generator: undici Pool with raw dispatch handlers,
// string templates for requests and indexOf scanning for responses.
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { attr, bodyTag, HTTPBIND_NS } from './xml';

export type PostCallback = (err: Error | null, status: number, text: string, header?: string) => void;

const HEADERS = ['content-type', 'text/xml; charset=utf-8'];

class Handler implements Dispatcher.DispatchHandlers {
  private status = 0;
  private chunks: Buffer[] = [];
  private header: string | undefined;
  constructor(
    private readonly cb: PostCallback,
    /** lower-case name of a response header to hand to the callback (e.g. nginx's x-bosh-upstream) */
    private readonly capture?: string,
  ) {}
  onConnect(): void {}
  onHeaders(statusCode: number, headers: Buffer[]): boolean {
    this.status = statusCode;
    if (this.capture && headers) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === this.capture) this.header = String(headers[i + 1]);
      }
    }
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  onComplete(): void {
    const c = this.chunks;
    const text = c.length === 1 ? (c[0] as Buffer).toString() : Buffer.concat(c).toString();
    this.cb(null, this.status, text, this.header);
  }
  onError(err: Error): void {
    this.cb(err, this.status, '', this.header);
  }
}

/** One keep-alive connection pool to the BOSH endpoint; a socket per in-flight request, no pipelining. */
export class Transport {
  private pool: Pool;
  inFlight = 0;
  requests = 0;
  errors = 0;
  constructor(
    readonly origin: string,
    readonly path: string,
    /** response header to report with each answer (lower case), if any */
    private readonly captureHeader?: string,
  ) {
    this.pool = new Pool(origin, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: 180_000,
      bodyTimeout: 180_000,
      connect: { timeout: 30_000 },
    });
  }

  post(body: string, cb: PostCallback): void {
    this.inFlight++;
    this.requests++;
    this.pool.dispatch(
      { path: this.path, method: 'POST', headers: HEADERS, body },
      new Handler((err, status, text, header) => {
        this.inFlight--;
        if (err) this.errors++;
        cb(err, status, text, header);
      }, this.captureHeader),
    );
  }

  postAsync(body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.post(body, (err, status, text) => {
        if (err) reject(new BoshError('http-error', err.message));
        else if (status !== 200) reject(new BoshError(`http-${status}`, text.slice(0, 300)));
        else resolve(text);
      });
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}

export class BoshError extends Error {
  constructor(
    readonly kind: string,
    readonly sample: string,
  ) {
    super(`${kind}: ${sample}`);
  }
}

export interface SessionEvents {
  /** Called with every successful response text while polling (may contain stanzas). */
  onText?(s: Session, text: string): void;
  /** Called when stanzas queued with a sequence number are put on the wire. */
  onSent?(seqs: number[], now: number): void;
}

export type FifthExchange = 'both' | 'session' | 'presence';

function randomRid(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

function hasChildren(text: string): boolean {
  // an empty <body .../> or <body ...></body>
  const s = text.indexOf('<body');
  if (s < 0) return text.length > 0;
  const e = text.indexOf('>', s);
  if (e < 0) return false;
  if (text.charCodeAt(e - 1) === 47 /* / */) return false;
  return text.indexOf('<', e + 1) !== text.indexOf('</body>', e + 1);
}

/**
 * One BOSH session. Requests carry consecutive rids; at most `requests` (hold+1 = 2) are
 * outstanding at a time; while polling, one request is always kept at the server.
 */
export class Session {
  sid = '';
  rid: number;
  jid = '';
  outstanding = 0;
  polling = false;
  dead = false;
  deadReason = '';
  quickEmpty = 0;
  private consecutiveQuick = 0;
  private queue: string[] = [];
  private qseq: number[] = [];
  events: SessionEvents | undefined;

  constructor(
    readonly t: Transport,
    readonly user: string,
    readonly domain: string,
  ) {
    this.rid = randomRid();
  }

  /** The five-exchange PLAIN login: create, auth, restart, bind, session iq and/or presence. */
  async login(password: string, resource: string, fifth: FifthExchange): Promise<void> {
    const t = this.t;
    const d = this.domain;
    // 1. session creation
    let r = await t.postAsync(
      `<body rid='${this.rid}' to='${d}' wait='60' hold='1' ver='1.6' xml:lang='en' xmpp:version='1.0' xmlns='${HTTPBIND_NS}' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    );
    const tag = bodyTag(r);
    const sid = attr(tag, 'sid');
    if (!sid) throw new BoshError('no-sid', r.slice(0, 300));
    this.sid = sid;
    if (r.indexOf('PLAIN') < 0) {
      // features may follow in a later response (XEP-0206 §5); fetch them
      r = await t.postAsync(this.emptyBody(++this.rid));
      if (r.indexOf('PLAIN') < 0) throw new BoshError('no-plain', r.slice(0, 300));
    }
    // 2. SASL PLAIN
    const cred = Buffer.from(`\0${this.user}\0${password}`).toString('base64');
    r = await t.postAsync(
      `<body rid='${++this.rid}' sid='${sid}' xmlns='${HTTPBIND_NS}'><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${cred}</auth></body>`,
    );
    if (r.indexOf('<success') < 0) throw new BoshError(r.indexOf('<failure') >= 0 ? 'auth-failure' : 'auth-unexpected', r.slice(0, 300));
    // 3. stream restart
    r = await t.postAsync(
      `<body rid='${++this.rid}' sid='${sid}' to='${d}' xml:lang='en' xmpp:restart='true' xmlns='${HTTPBIND_NS}' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    );
    if (r.indexOf('urn:ietf:params:xml:ns:xmpp-bind') < 0) throw new BoshError('no-bind-feature', r.slice(0, 300));
    // 4. resource binding
    r = await t.postAsync(
      `<body rid='${++this.rid}' sid='${sid}' xmlns='${HTTPBIND_NS}'><iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq></body>`,
    );
    const j = r.indexOf('<jid>');
    if (j < 0) throw new BoshError('bind-failed', r.slice(0, 300));
    this.jid = r.slice(j + 5, r.indexOf('</jid>', j));
    // 5. session establishment and/or initial presence
    if (fifth === 'presence') {
      // the presence request usually has no immediate answer: it becomes the held request
      this.polling = true;
      this.send("<presence xmlns='jabber:client'/>");
      return;
    }
    const stanzas =
      `<iq type='set' id='s1' xmlns='jabber:client'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>` +
      (fifth === 'both' ? "<presence xmlns='jabber:client'/>" : '');
    r = await t.postAsync(`<body rid='${++this.rid}' sid='${sid}' xmlns='${HTTPBIND_NS}'>${stanzas}</body>`);
    if (r.indexOf('s1') < 0) throw new BoshError('session-failed', r.slice(0, 300));
  }

  emptyBody(rid: number): string {
    return `<body rid='${rid}' sid='${this.sid}' xmlns='${HTTPBIND_NS}'/>`;
  }

  startPolling(): void {
    this.polling = true;
    if (this.outstanding === 0 && !this.dead) this.send();
  }

  stopPolling(): void {
    this.polling = false;
  }

  /** Queue a stanza (with a sequence number for latency accounting) and send as soon as a slot is free. */
  enqueue(stanza: string, seq: number): void {
    this.queue.push(stanza);
    this.qseq.push(seq);
    if (this.outstanding < 2 && !this.dead) this.send();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Drop queued stanzas (returns their sequence numbers). */
  dropQueue(): number[] {
    const s = this.qseq;
    this.queue = [];
    this.qseq = [];
    return s;
  }

  /** Send one request carrying everything queued (plus `extra`), or an empty poll. */
  send(extra = ''): void {
    const rid = ++this.rid;
    let payload = extra;
    if (this.queue.length) {
      payload += this.queue.join('');
      const seqs = this.qseq;
      this.queue = [];
      this.qseq = [];
      this.events?.onSent?.(seqs, performance.now());
    }
    const body = payload ? `<body rid='${rid}' sid='${this.sid}' xmlns='${HTTPBIND_NS}'>${payload}</body>` : this.emptyBody(rid);
    this.transmit(body, payload.length === 0, 0);
  }

  private transmit(body: string, empty: boolean, attempt: number): void {
    this.outstanding++;
    const started = performance.now();
    this.t.post(body, (err, status, text) => {
      this.outstanding--;
      if (err) {
        // retransmit the same rid (XEP-0124 §14.3) a couple of times, then give up
        if (attempt < 2 && this.polling && !this.dead) {
          setTimeout(() => this.transmit(body, empty, attempt + 1), 100).unref();
        } else {
          this.kill(`http-error: ${err.message}`);
        }
        return;
      }
      if (status !== 200) return this.kill(`http-${status}`);
      const tag = bodyTag(text);
      if (attr(tag, 'type') === 'terminate') return this.kill(`terminate:${attr(tag, 'condition') ?? ''}`);
      const children = hasChildren(text);
      if (children) this.events?.onText?.(this, text);
      if (!this.polling || this.dead) return;
      if (this.queue.length) {
        if (this.outstanding < 2) this.send();
        return;
      }
      if (this.outstanding > 0) return;
      // keep one request held; guard against a server that answers empty polls at once
      if (empty && !children && performance.now() - started < 20) {
        this.quickEmpty++;
        if (++this.consecutiveQuick > 3) {
          setTimeout(() => {
            if (this.polling && !this.dead && this.outstanding === 0) this.send();
          }, 500).unref();
          return;
        }
      } else {
        this.consecutiveQuick = 0;
      }
      this.send();
    });
  }

  private kill(reason: string): void {
    if (!this.dead) {
      this.dead = true;
      this.deadReason = reason;
    }
  }

  /** Terminate the session (one request); resolves when answered or failed. */
  terminate(): Promise<void> {
    this.polling = false;
    if (this.dead) return Promise.resolve();
    const body = `<body rid='${++this.rid}' sid='${this.sid}' type='terminate' xmlns='${HTTPBIND_NS}'><presence type='unavailable' xmlns='jabber:client'/></body>`;
    return new Promise((resolve) => {
      this.t.post(body, () => {
        this.dead = true;
        this.deadReason = 'terminated';
        resolve();
      });
    });
  }
}
