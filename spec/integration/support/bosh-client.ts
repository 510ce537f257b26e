import type { Element } from 'ltx';
import { parse } from 'ltx';
import request from 'supertest';
import { ScramClient } from '../../xmpp/support/scram-client';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const BOSH_PATH = '/http-bind';

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | undefined;
  readonly headers: Record<string, string>;
}

/** One raw POST of a request body to the BOSH endpoint. */
export async function post(baseUrl: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(baseUrl)
    .post(BOSH_PATH)
    .set({ 'Content-Type': 'text/xml; charset=utf-8', ...headers })
    .send(body);
  return {
    status: res.status,
    text: res.text ?? '',
    contentType: res.headers['content-type'],
    headers: res.headers,
  };
}

/** The response <body/> as an element (throws when the text is not one). */
export function bodyOf(answer: Answer): Element {
  const element = parse(answer.text);
  if (element.name !== 'body' || element.attrs.xmlns !== NS_HTTPBIND) throw new Error(`not a BOSH body: ${answer.text}`);
  return element;
}

/** XEP-0124 §17.2: a terminal binding error body with its condition. */
export function terminalCondition(answer: Answer): string | undefined {
  const body = bodyOf(answer);
  return body.attrs.type === 'terminate' ? ((body.attrs.condition as string | undefined) ?? '') : undefined;
}

export function stanzaCondition(stanza: Element): string | undefined {
  return stanza.getChild('error')?.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name;
}

let ridSeed = 100_000 + Math.floor(Math.random() * 1_000_000);

export interface CreateOptions {
  readonly to?: string;
  readonly wait?: number;
  readonly hold?: number;
  readonly ver?: string | undefined;
  readonly extra?: string;
}

/** A BOSH client speaking raw bodies (XEP-0124, XEP-0206), one request at a time unless told otherwise. */
export class BoshClient {
  sid = '';
  rid: number;
  jid = '';

  constructor(readonly baseUrl: string) {
    ridSeed += 10_000;
    this.rid = ridSeed;
  }

  /** XEP-0124 §7.1 / XEP-0206 §3: the session creation request. */
  async create(options: CreateOptions = {}): Promise<Answer> {
    const { to = 'localhost', wait = 2, hold = 1, extra = '' } = options;
    const ver = 'ver' in options ? options.ver : '1.6';
    const verAttr = ver === undefined ? '' : ` ver='${ver}'`;
    const answer = await post(
      this.baseUrl,
      `<body rid='${this.rid}' to='${to}' wait='${wait}' hold='${hold}'${verAttr} xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' content='text/xml; charset=utf-8' ${extra} xmlns='${NS_HTTPBIND}'/>`,
    );
    const sid = answer.status === 200 && answer.text ? (bodyOf(answer).attrs.sid as string | undefined) : undefined;
    if (sid) this.sid = sid;
    return answer;
  }

  /** The raw text of the next request body in this session (the rid advances). */
  nextBody(inner = '', attrs = ''): string {
    this.rid++;
    return `<body rid='${this.rid}' sid='${this.sid}' ${attrs} xmlns='${NS_HTTPBIND}'>${inner}</body>`;
  }

  /** Sends the next request and returns its answer (a held request resolves when the server answers it). */
  send(inner = '', attrs = ''): Promise<Answer> {
    return post(this.baseUrl, this.nextBody(inner, attrs));
  }

  /** Sends and returns the payloads of the answer. */
  async exchange(inner = '', attrs = ''): Promise<Element[]> {
    const answer = await this.send(inner, attrs);
    const body = bodyOf(answer);
    if (body.attrs.type === 'terminate') throw new Error(`session terminated: ${answer.text}`);
    return body.children.filter((c): c is Element => typeof c !== 'string');
  }

  /** Sends a stanza and returns the first payload of the answer matching `match`. */
  async expect(inner: string, match: (e: Element) => boolean, attrs = ''): Promise<Element> {
    const payloads = await this.exchange(inner, attrs);
    const found = payloads.find(match);
    if (!found) throw new Error(`no matching payload in ${payloads.map((p) => p.toString()).join('')}`);
    return found;
  }

  async iq(inner: string): Promise<Element> {
    const id = /\sid='([^']+)'/.exec(inner)?.[1];
    return this.expect(inner, (e) => e.name === 'iq' && e.attrs.id === id);
  }

  /** XEP-0206 §5: the restart request after SASL success. */
  restart(): Promise<Element> {
    return this.expect('', (e) => e.name === 'stream:features', "xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'");
  }

  /** Binds a resource (RFC 6120 §7.7.1) and establishes the legacy session (RFC 3921 §3). */
  async bindAndStart(resource: string): Promise<void> {
    const bound = await this.iq(`<iq type='set' id='bind_1' xmlns='jabber:client'><bind xmlns='${NS_BIND}'><resource>${resource}</resource></bind></iq>`);
    this.jid = bound.getChild('bind', NS_BIND)?.getChildText('jid') ?? '';
    if (!this.jid) throw new Error(`bind failed: ${bound.toString()}`);
    await this.iq(`<iq type='set' id='sess_1' xmlns='jabber:client'><session xmlns='${NS_SESSION}'/></iq>`);
  }

  /** The whole PLAIN login: create, SASL, restart, bind, session. */
  async loginPlain(username: string, password: string, resource: string, create: CreateOptions = {}): Promise<this> {
    await this.create(create);
    const data = Buffer.from(`\0${username}\0${password}`).toString('base64');
    const answer = await this.expect(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${data}</auth>`, (e) => e.attrs.xmlns === NS_SASL);
    if (answer.name !== 'success') throw new Error(`login failed: ${answer.toString()}`);
    await this.restart();
    await this.bindAndStart(resource);
    return this;
  }

  /** SCRAM over BOSH (RFC 5802 §5, RFC 6120 §6.4.3): returns the client so the caller can check v=. */
  async scram(hash: 'sha1' | 'sha256', username: string, password: string): Promise<{ client: ScramClient; success: Element }> {
    const mechanism = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
    const client = new ScramClient(hash, username, password);
    const challenge = await this.expect(
      `<auth xmlns='${NS_SASL}' mechanism='${mechanism}'>${Buffer.from(client.first()).toString('base64')}</auth>`,
      (e) => e.attrs.xmlns === NS_SASL,
    );
    if (challenge.name !== 'challenge') throw new Error(`expected a challenge: ${challenge.toString()}`);
    const final = client.final(Buffer.from(challenge.getText(), 'base64').toString('utf8'));
    const success = await this.expect(`<response xmlns='${NS_SASL}'>${Buffer.from(final).toString('base64')}</response>`, (e) => e.attrs.xmlns === NS_SASL);
    return { client, success };
  }

  /** A ping to the server on this session (XEP-0199 §4.2): the quickest proof that the session works. */
  async ping(): Promise<Element> {
    return this.iq(`<iq type='get' id='ping_${this.rid + 1}' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`);
  }
}
