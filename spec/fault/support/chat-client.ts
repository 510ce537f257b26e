/**
 * One BOSH session of the fault harness, written from XEP-0124/0206 over node:http the way web
 * clients behave: one poll outstanding, stanzas in requests of their own (at most `requests`),
 * answers read in rid order (§14.2), the same rid resent after a network error, a 5xx or a
 * recoverable `type='error'` (§14.3, §17.3), with a back-off; a terminal answer or a request that
 * keeps failing ends the session (`lost`), and the owner of the client logs in again.
 *
 * What it reports is what the accounting needs: which message ids the server accepted (their
 * request was answered 200 and not terminal), and every stanza received.
 */
import { Agent } from 'node:http';
import type { Element } from 'ltx';
import { parseStrictXml } from '../../../src/xml';
import { postOnAgent as post } from '../../e2e/support/raw-http';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const NS_CLIENT = 'jabber:client';
/** Resends of one request before the client gives the session up (Strophe.js: 5; we are more patient). */
const MAX_TRIES = 12;

export interface ChatClientEvents {
  /** The requests carrying these message ids were answered: the server has them. */
  accepted(ids: readonly string[]): void;
  /** A stanza arrived (in rid order). */
  stanza(stanza: Element): void;
  /** The session is over for this client: a terminal answer or a request that kept failing. */
  lost(why: string): void;
}

interface Outstanding {
  readonly rid: number;
  readonly body: string;
  readonly ids: readonly string[];
  readonly poll: boolean;
  tries: number;
}

export class ChatClient {
  sid = '';
  jid = '';
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 6 });
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly answers = new Map<number, Element>();
  private queue: Array<{ id: string; xml: string }> = [];
  private rid = Math.floor(Math.random() * 1e9) + 1e6;
  private nextToRead = 0;
  private requests = 2;
  private running = false;
  private over = false;

  constructor(
    private readonly url: string,
    private readonly events: ChatClientEvents,
    private readonly wait = 60,
  ) {}

  /** The node that holds this session (cluster sids are `<uuid>.<node>`). */
  get node(): string {
    return this.sid.slice(this.sid.indexOf('.') + 1);
  }

  get stanzaRequestsOut(): number {
    return [...this.outstanding.values()].filter((o) => !o.poll).length + this.queue.length;
  }

  get active(): boolean {
    return this.running && !this.over;
  }

  /** Session creation, PLAIN, restart, bind, then initial presence (which brings offline messages) and the poll loop. */
  async login(user: string, domain: string, password: string, resource: string): Promise<void> {
    const created = await this.exchange(
      `<body rid='${this.rid}' to='${domain}' wait='${this.wait}' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='${NS_HTTPBIND}'/>`,
    );
    this.sid = String(created.attrs.sid ?? '');
    if (!this.sid) throw new Error(`no session: ${created.toString()}`);
    this.requests = Number(created.attrs.requests) || 2;
    const auth = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const authReply = await this.exchange(this.wrap(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`));
    if (!authReply.getChild('success')) throw new Error(`login failed: ${authReply.toString()}`);
    await this.exchange(this.wrap('', ` xmpp:restart='true' to='${domain}' xmlns:xmpp='urn:xmpp:xbosh'`));
    const bound = await this.exchange(
      this.wrap(`<iq type='set' id='bind' xmlns='${NS_CLIENT}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`),
    );
    this.jid = bound.getChild('iq')?.getChild('bind')?.getChildText('jid') ?? '';
    if (!this.jid) throw new Error(`bind failed: ${bound.toString()}`);
    // The resource is bound: a stanza for it may already come with the bind result (a message to this
    // full JID, routed again from a session of the same resource that ended). Clients read those too.
    for (const child of bound.children) {
      if (typeof child === 'string' || child.name === 'iq') continue;
      child.parent = null;
      this.events.stanza(child);
    }
    this.nextToRead = this.rid;
    this.running = true;
    this.queue.push({ id: '', xml: `<presence xmlns='${NS_CLIENT}'/>` });
    this.pump();
  }

  sendChat(to: string, id: string, body: string): void {
    this.queue.push({ id, xml: `<message to='${to}' id='${id}' type='chat' xmlns='${NS_CLIENT}'><body>${body}</body></message>` });
    this.pump();
  }

  /** Stops without a goodbye (the harness's end); sockets are released. */
  destroy(): void {
    this.running = false;
    this.over = true;
    this.agent.destroy();
  }

  private pump(): void {
    if (!this.active) return;
    if (this.queue.length > 0 && this.outstanding.size < this.requests) {
      const batch = this.queue;
      this.queue = [];
      this.fire(
        batch.map((b) => b.xml).join(''),
        batch.map((b) => b.id).filter((id) => id !== ''),
        false,
      );
    }
    const pollOut = [...this.outstanding.values()].some((o) => o.poll);
    if (!pollOut && this.outstanding.size < this.requests) this.fire('', [], true);
  }

  private fire(inner: string, ids: readonly string[], poll: boolean): void {
    const entry: Outstanding = { rid: this.rid, body: this.wrap(inner), ids, poll, tries: 0 };
    this.rid++;
    this.outstanding.set(entry.rid, entry);
    this.transmit(entry);
  }

  private transmit(entry: Outstanding): void {
    const attempt = ++entry.tries;
    post(this.agent, this.url, entry.body).then(
      ({ status, text }) => {
        if (entry.tries === attempt) this.received(entry, status, text);
      },
      (err: Error) => {
        if (entry.tries === attempt) this.retry(entry, `network error: ${err.message}`);
      },
    );
  }

  private received(entry: Outstanding, status: number, text: string): void {
    if (!this.active || this.outstanding.get(entry.rid) !== entry) return;
    if (status !== 200) return this.retry(entry, `HTTP ${status}`);
    let body: Element;
    try {
      body = parseStrictXml(text);
    } catch {
      return this.retry(entry, 'unreadable answer');
    }
    if (body.attrs.type === 'terminate') return this.end(`terminate ${String(body.attrs.condition ?? '')}`);
    if (body.attrs.type === 'error') {
      // §17.3: this request and every earlier one still unanswered go again, unchanged.
      for (const earlier of [...this.outstanding.values()].filter((o) => o.rid <= entry.rid)) this.retry(earlier, 'recoverable error');
      return;
    }
    this.outstanding.delete(entry.rid);
    if (entry.ids.length > 0) this.events.accepted(entry.ids);
    this.answers.set(entry.rid, body);
    this.readInOrder();
    this.pump();
  }

  private retry(entry: Outstanding, why: string): void {
    if (!this.active || this.outstanding.get(entry.rid) !== entry) return;
    if (entry.tries >= MAX_TRIES) return this.end(`gave up after ${entry.tries} tries: ${why}`);
    const delay = Math.min(1000, 100 * 2 ** (entry.tries - 1));
    setTimeout(() => {
      if (this.active && this.outstanding.get(entry.rid) === entry) this.transmit(entry);
    }, delay);
  }

  private end(why: string): void {
    if (this.over) return;
    this.destroy();
    this.events.lost(why);
  }

  private readInOrder(): void {
    for (let body = this.answers.get(this.nextToRead); body !== undefined; body = this.answers.get(this.nextToRead)) {
      this.answers.delete(this.nextToRead);
      this.nextToRead++;
      for (const child of body.children) {
        if (typeof child === 'string') continue;
        child.parent = null;
        this.events.stanza(child);
      }
    }
  }

  private async exchange(body: string): Promise<Element> {
    this.rid++;
    const { status, text } = await post(this.agent, this.url, body);
    if (status !== 200) throw new Error(`HTTP ${status} during login`);
    const answer = parseStrictXml(text);
    if (answer.attrs.type === 'terminate' || answer.attrs.type === 'error') throw new Error(`${String(answer.attrs.type)} during login: ${text}`);
    return answer;
  }

  private wrap(inner: string, extra = ''): string {
    return `<body rid='${this.rid}' sid='${this.sid}'${extra} xmlns='${NS_HTTPBIND}'>${inner}</body>`;
  }
}
