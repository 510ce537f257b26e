import type { Element } from 'ltx';
import { SaxesParser } from 'saxes';
import request from 'supertest';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';
import { FORBIDDEN_CHARACTERS as FORBIDDEN } from '../support/forbidden-characters';
import { BOSH_PATH, bodyOf, BoshClient, NS_HTTPBIND, NS_SASL, post, stanzaCondition, terminalCondition, type Answer } from './support/bosh-client';

/**
 * Hostile XML against the real HTTP server: nesting far beyond any real stanza, and characters that
 * XML 1.0 forbids. The node answers each with its defined condition, stays up, and nothing forbidden
 * reaches another user.
 */

const LIMIT = 48; // MAX_XML_DEPTH's default
const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
let node: RunningNode;
let bob: BoshTestClient;
let carol: BoshTestClient;

beforeAll(async () => {
  node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b,carol:c', LOG_LEVEL: 'silent' }));
  bob = await BoshTestClient.login(node.boshUrl, 'bob', 'b', 'phone', 2);
  carol = await BoshTestClient.login(node.boshUrl, 'carol', 'c', 'web', 2);
});

afterAll(async () => {
  bob.destroy();
  carol.destroy();
  await node.close();
});

/** `<x><x>…</x></x>` taking `levels` levels. */
const nest = (levels: number): string => `${"<x xmlns='urn:example:nest'>".repeat(levels)}${'</x>'.repeat(levels)}`;

/** A message from a logged-in user whose deepest element is at `depth`, counting <body/> as 1. */
const messageReaching = (depth: number, id: string, to = 'bob@localhost/phone'): string =>
  `<message to='${to}' id='${id}' type='chat' xmlns='jabber:client'><body>${id}</body>${nest(depth - 2)}</message>`;

/** A SASL PLAIN auth for alice whose deepest element is at `depth`: the text is read, the nesting ignored. */
const authReaching = (depth: number): string =>
  `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0alice\0a').toString('base64')}${nest(depth - 2)}</auth>`;

const creationBody = (inner: string): string =>
  `<body rid='${1000 + Math.floor(Math.random() * 1e6)}' to='localhost' wait='2' hold='1' ver='1.11' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0' xmlns='${NS_HTTPBIND}'>${inner}</body>`;

function payloads(answer: Answer): Element[] {
  return bodyOf(answer).children.filter((c): c is Element => typeof c !== 'string');
}

/** The condition of the <stream:error/> a terminal remote-stream-error body carries (XEP-0206 §7). */
function streamErrorCondition(answer: Answer): string | undefined {
  const error = payloads(answer).find((e) => e.name === 'stream:error');
  return error?.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS_STREAMS)?.name;
}

/** Levels from `element` down its last element child at each step (the nesting follows <body/>). */
/** Levels from the element down to its deepest descendant (the server may add shallow children, such as a stanza-id). */
function depthOf(element: Element): number {
  let depth = 0;
  for (let level: Element[] = [element]; level.length > 0; level = level.flatMap((e) => e.children.filter((c): c is Element => typeof c !== 'string'))) depth++;
  return depth;
}

/** Whatever happened, the node still serves: two logged-in users exchange a message. */
async function othersKeepChatting(tag: string): Promise<void> {
  carol.send(`<message to='bob@localhost/phone' id='${tag}' type='chat' xmlns='jabber:client'><body>${tag}</body></message>`);
  await bob.waitFor((e) => e.name === 'message' && e.attrs.id === tag, 5000, tag);
  bob.send(`<message to='carol@localhost/web' id='${tag}-back' type='chat' xmlns='jabber:client'><body>back</body></message>`);
  await carol.waitFor((e) => e.name === 'message' && e.attrs.id === `${tag}-back`, 5000, `${tag}-back`);
}

describe('nesting depth in a session-creation body', () => {
  it.each([LIMIT - 1, LIMIT])('opens a session and processes a payload reaching level %i', async (depth) => {
    const answer = await post(node.url, creationBody(authReaching(depth)));
    expect(terminalCondition(answer)).toBeUndefined();
    const sid = bodyOf(answer).attrs.sid as string;
    expect(node.transport.session(sid)).toBeDefined();
  });

  it('ends the new session with a policy-violation stream error for a payload one level deeper (XEP-0206 §7)', async () => {
    const answer = await post(node.url, creationBody(authReaching(LIMIT + 1)));
    expect(terminalCondition(answer)).toBe('remote-stream-error');
    expect(streamErrorCondition(answer)).toBe('policy-violation');
  });

  it('answers 20,000 nested elements with a terminal policy-violation and opens no session', async () => {
    const before = node.transport.sessionCount;
    const answer = await post(node.url, creationBody(authReaching(20_000)));
    expect(terminalCondition(answer)).toBe('policy-violation');
    expect(node.transport.sessionCount).toBe(before);
    await othersKeepChatting('after-creation-attack');
  });
});

describe('nesting depth in a body for a live session, before login', () => {
  it.each([LIMIT - 1, LIMIT])('processes a SASL auth reaching level %i (the login succeeds)', async (depth) => {
    const client = new BoshClient(node.url);
    await client.create();
    const answer = await client.expect(authReaching(depth), (e) => e.attrs.xmlns === NS_SASL);
    expect(answer.name).toBe('success');
  });

  it('ends the session with a policy-violation stream error for a stanza one level deeper', async () => {
    const client = new BoshClient(node.url);
    await client.create();
    const answer = await client.send(authReaching(LIMIT + 1));
    expect(terminalCondition(answer)).toBe('remote-stream-error');
    expect(streamErrorCondition(answer)).toBe('policy-violation');
  });

  it('ends the session it names with a terminal policy-violation for 20,000 nested elements (no login needed)', async () => {
    const client = new BoshClient(node.url);
    await client.create();
    const answer = await client.send(authReaching(20_000));
    expect(terminalCondition(answer)).toBe('policy-violation');
    expect(node.transport.session(client.sid)).toBeUndefined();
    await othersKeepChatting('after-live-attack');
  });
});

describe('nesting depth in a stanza of a logged-in user', () => {
  let alice: BoshClient;

  beforeAll(async () => {
    alice = await new BoshClient(node.url).loginPlain('alice', 'a', 'nester');
  });

  it.each([LIMIT - 1, LIMIT])('delivers a message reaching level %i whole', async (depth) => {
    const id = `depth-${depth}`;
    await alice.send(messageReaching(depth, id));
    const received = await bob.waitFor((e) => e.name === 'message' && e.attrs.id === id, 5000, id);
    // In the response the message sits at level 2, as it did in the request.
    expect(depthOf(received)).toBe(depth - 1);
  });

  it('answers a message one level deeper with a policy-violation stanza error and keeps the session (RFC 6120 §8.3.3.12)', async () => {
    const sent = await alice.exchange(messageReaching(LIMIT + 1, 'too-deep'));
    const refused = sent.find((e) => e.attrs.id === 'too-deep');
    expect(refused?.attrs.type).toBe('error');
    expect(refused && stanzaCondition(refused)).toBe('policy-violation');
    // The refusal carries none of the nesting back.
    expect(refused?.getChild('x')).toBeUndefined();
    expect((await alice.ping()).attrs.type).toBe('result');
    expect(bob.inbox.some((e) => e.attrs.id === 'too-deep')).toBe(false);
  });

  it('ends only the sender’s session for a message 20,000 levels deep; the node and everyone else go on', async () => {
    const answer = await alice.send(messageReaching(20_000, 'abyss'));
    expect(terminalCondition(answer)).toBe('policy-violation');
    expect(node.transport.session(alice.sid)).toBeUndefined();
    await othersKeepChatting('after-stanza-attack');
    expect(bob.inbox.some((e) => e.attrs.id === 'abyss')).toBe(false);
  });
});

const isSurrogate = (cp: number): boolean => cp >= 0xd800 && cp <= 0xdfff;
// UTF-8 cannot carry a lone surrogate; a client can still send its three-byte form, which is not UTF-8.
const SURROGATE_BYTES = /@@([0-9a-f]+)@@/;
const FORMS: ReadonlyArray<readonly [string, (cp: number) => string]> = [
  ['literal', (cp) => (isSurrogate(cp) ? `@@${cp.toString(16)}@@` : String.fromCharCode(cp))],
  ['decimal reference', (cp) => `&#${cp};`],
  ['hex reference', (cp) => `&#x${cp.toString(16)};`],
];
const CASES = FORBIDDEN.flatMap(([what, cp]) =>
  FORMS.flatMap(([form, write]) => [
    [`${what} as a ${form} in the text`, `<body>before ${write(cp)} after</body>`] as const,
    [`${what} as a ${form} in an attribute value`, `<body>plain</body><thread parent='a${write(cp)}b'>t</thread>`] as const,
  ]),
);

/** Checks a response with saxes (namespace-aware XML 1.0), plus the lone surrogate saxes lets through. */
function strictXmlProblem(text: string): string | undefined {
  let problem: string | undefined;
  const parser = new SaxesParser({ xmlns: true });
  parser.on('error', (err) => {
    problem ??= err.message;
  });
  parser.write(text).close();
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) problem ??= 'lone surrogate';
  return problem;
}

/** The request's bytes: UTF-8, except a marked surrogate written as its (invalid) three-byte form. */
function requestBytes(text: string): Buffer {
  const marked = SURROGATE_BYTES.exec(text);
  if (!marked) return Buffer.from(text, 'utf8');
  const cp = parseInt(marked[1] as string, 16);
  const encoded = Buffer.from([0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]);
  return Buffer.concat([Buffer.from(text.slice(0, marked.index), 'utf8'), encoded, Buffer.from(text.slice(marked.index + marked[0].length), 'utf8')]);
}

async function postBytes(bytes: Buffer): Promise<Answer> {
  const res = await request(node.url).post(BOSH_PATH).set('Content-Type', 'text/xml; charset=utf-8').send(bytes);
  return {
    status: res.status,
    text: res.text ?? '',
    contentType: res.headers['content-type'],
    headers: res.headers,
  };
}

describe('characters XML 1.0 forbids are refused with bad-request and never relayed', () => {
  it.each(CASES)('ends the sender’s session with bad-request for %s', async (_what, content) => {
    const attacker = await new BoshClient(node.url).loginPlain('alice', 'a', `chars-${Math.random().toString(36).slice(2)}`);
    const raw = attacker.nextBody(`<message to='bob@localhost/phone' id='poison' type='chat' xmlns='jabber:client'>${content}</message>`);
    const answer = await postBytes(requestBytes(raw));
    expect(terminalCondition(answer)).toBe('bad-request');
    expect(node.transport.session(attacker.sid)).toBeUndefined();
  });

  it('gives the receiver only responses a strict XML parser accepts, none holding a poisoned message', async () => {
    const sender = await new BoshClient(node.url).loginPlain('alice', 'a', 'clean');
    await sender.send(`<message to='bob@localhost/phone' id='clean' type='chat' xmlns='jabber:client'><body>clean &amp; 😀</body></message>`);
    await bob.waitFor((e) => e.name === 'message' && e.attrs.id === 'clean', 5000, 'clean');
    expect(bob.rawResponses.length).toBeGreaterThan(0);
    for (const text of bob.rawResponses) expect(strictXmlProblem(text)).toBeUndefined();
    expect(bob.inbox.some((e) => e.attrs.id === 'poison')).toBe(false);
    expect(bob.terminated).toBeUndefined();
  });

  it('the strict check used on the receiver’s responses does catch each forbidden character', () => {
    for (const [, cp] of FORBIDDEN) {
      expect(strictXmlProblem(`<body xmlns='${NS_HTTPBIND}'><m>${String.fromCharCode(cp)}</m></body>`)).toBeDefined();
    }
    expect(strictXmlProblem(`<body xmlns='${NS_HTTPBIND}'><m>x\uD800y</m></body>`)).toBeDefined();
  });
});
