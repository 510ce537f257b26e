import { Agent, request } from 'node:http';
import type { Element } from 'ltx';
import { parseStrictXml } from '../../src/xml';

const NS = 'http://jabber.org/protocol/httpbind';

/** POSTs one body over a keep-alive agent; resolves with status and text. */
export function post(url: string, body: string, agent?: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'text/xml; charset=utf-8' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A small, strict BOSH client for tests (XEP-0124/0206 with hold=1): logs in with SASL PLAIN, keeps
 * one request held so the server can push, and reads responses in rid order into an inbox.
 */
export class BoshTestClient {
  readonly inbox: Element[] = [];
  /** Every response body as received, before any parsing (for checks by another parser). */
  readonly rawResponses: string[] = [];
  jid = '';
  /** The rid the next request will carry. */
  private rid = Math.floor(Math.random() * 1e9) + 1e6;
  private sid = '';
  private outstanding = 0;
  private closed = false;
  private nextToRead = 0;
  private readonly responses = new Map<number, string>();
  private waiters: Array<{ test: (e: Element) => boolean; resolve: (e: Element) => void }> = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  terminated: string | undefined;

  private turn = 0;

  /** `urls`: one endpoint, or several taken in turn for each request (nodes behind a round-robin proxy). */
  private constructor(private readonly urls: readonly string[]) {}

  private get url(): string {
    return this.urls[this.turn++ % this.urls.length] as string;
  }

  static async login(url: string | readonly string[], user: string, password: string, resource?: string, wait = 10): Promise<BoshTestClient> {
    const client = new BoshTestClient(typeof url === 'string' ? [url] : url);
    const created = await client.exchange(
      `<body rid='${client.rid}' to='localhost' wait='${wait}' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='${NS}'/>`,
    );
    client.sid = /sid='([^']+)'/.exec(created)?.[1] ?? '';
    if (!client.sid) throw new Error(`no session: ${created}`);
    const auth = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const authReply = await client.exchange(client.wrap(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`));
    if (!authReply.includes('<success')) throw new Error(`login failed: ${authReply}`);
    await client.exchange(client.wrap('', `xmpp:restart='true' to='localhost' xmlns:xmpp='urn:xmpp:xbosh'`));
    const bind = await client.exchange(
      client.wrap(
        `<iq type='set' id='bind' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${resource ? `<resource>${resource}</resource>` : ''}</bind></iq>`,
      ),
    );
    client.jid = /<jid>([^<]+)<\/jid>/.exec(bind)?.[1] ?? '';
    if (!client.jid) throw new Error(`bind failed: ${bind}`);
    client.nextToRead = client.rid;
    client.poll();
    return client;
  }

  /** One request, answered before the next is sent (login steps). */
  private async exchange(body: string): Promise<string> {
    const { text } = await post(this.url, body, this.agent);
    this.rid++;
    return text;
  }

  private wrap(inner: string, extra = ''): string {
    return `<body rid='${this.rid}' sid='${this.sid}' ${extra} xmlns='${NS}'>${inner}</body>`;
  }

  private queued: string[] = [];

  /**
   * Queues stanzas for the next request. Like a real client with requests=2, at most two requests are
   * outstanding: the held one and one carrying data (XEP-0124 §11).
   */
  send(xml: string): void {
    this.queued.push(xml);
    this.pump();
  }

  /**
   * Sends no request from now on (a frozen tab, a phone asleep): what the held request brings is still
   * read, but no later request shows the server it arrived (XEP-0124 §9.1), so it stays unconfirmed.
   */
  stopRequesting(): void {
    this.silent = true;
  }

  /** Sends requests again (the next one confirms what arrived meanwhile). */
  resumeRequesting(): void {
    this.silent = false;
    this.pump();
  }

  private silent = false;

  private pump(): void {
    if (this.closed || this.silent) return;
    if (this.queued.length > 0 && this.outstanding < 2) {
      const inner = this.queued.join('');
      this.queued = [];
      this.request(inner);
    } else if (this.outstanding === 0) {
      this.request('');
    }
  }

  private poll(): void {
    this.pump();
  }

  private request(inner: string, extra = ''): void {
    const rid = this.rid++;
    this.outstanding++;
    post(this.url, `<body rid='${rid}' sid='${this.sid}' ${extra} xmlns='${NS}'>${inner}</body>`, this.agent).then(
      ({ text }) => {
        this.outstanding--;
        this.rawResponses.push(text);
        this.responses.set(rid, text);
        this.readInOrder();
        this.poll();
      },
      () => {
        this.outstanding--;
      },
    );
  }

  /** XEP-0124 §14.2: the client too handles responses in rid order. */
  private readInOrder(): void {
    for (let text = this.responses.get(this.nextToRead); text !== undefined; text = this.responses.get(this.nextToRead)) {
      this.responses.delete(this.nextToRead);
      this.nextToRead++;
      if (text === '') continue;
      const body = parseStrictXml(text);
      if (body.attrs.type === 'terminate') {
        this.terminated = (body.attrs.condition as string | undefined) ?? 'terminate';
        this.closed = true;
      }
      for (const child of body.children) {
        if (typeof child === 'string') continue;
        this.inbox.push(child);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(child)) {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            waiter.resolve(child);
          }
        }
      }
    }
  }

  /** Resolves with the first stanza (already received or future) matching `test`. */
  waitFor(test: (element: Element) => boolean, timeoutMs = 5000, what = 'stanza'): Promise<Element> {
    const found = this.inbox.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.jid}: timed out waiting for ${what}; inbox: ${this.inbox.map((e) => e.toString()).join('\n')}`));
      }, timeoutMs);
      const done = (element: Element): void => {
        clearTimeout(timer);
        resolve(element);
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  /** Sends an iq and resolves with its result or error. */
  async iq(xml: string, id: string): Promise<Element> {
    this.send(xml);
    return this.waitFor((e) => e.name === 'iq' && e.attrs.id === id && (e.attrs.type === 'result' || e.attrs.type === 'error'), 5000, `iq ${id}`);
  }

  /** Ends the session the way a client logs off (XEP-0124 §13). */
  async terminate(): Promise<void> {
    if (this.closed) return this.destroy();
    this.closed = true;
    const rid = this.rid++;
    await post(
      this.url,
      `<body rid='${rid}' sid='${this.sid}' type='terminate' xmlns='${NS}'><presence type='unavailable' xmlns='jabber:client'/></body>`,
      this.agent,
    );
    this.destroy();
  }

  /** Drops the client without telling the server (a closed browser tab). */
  destroy(): void {
    this.closed = true;
    this.agent.destroy();
  }
}
