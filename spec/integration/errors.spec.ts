import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BOSH_PATH, bodyOf, BoshClient, NS_HTTPBIND, post, stanzaCondition, terminalCondition } from './support/bosh-client';

/**
 * Every error a BOSH client can provoke, against the real HTTP server, each followed by a check that
 * another live session was not affected (XEP-0124 §17: an error ends at most the session it concerns).
 */

const ALLOWED_ORIGIN = 'https://chat.example.com';
let node: RunningNode;
let witness: BoshClient;

beforeAll(async () => {
  node = await startNode(
    loadConfig({
      PORT: '0',
      STORAGE: 'memory',
      USERS: 'alice:secret,bob:secret',
      LOG_LEVEL: 'silent',
      BOSH_MAX_WAIT: '2',
      BOSH_MAX_BODY_BYTES: '4096',
      MAX_STANZA_BYTES: '1024',
      CORS_ORIGINS: ALLOWED_ORIGIN,
    }),
  );
  witness = await new BoshClient(node.url).loginPlain('alice', 'secret', 'witness');
});

afterEach(async () => {
  // The witness session still answers: the error had no effect on other sessions.
  const pong = await witness.ping();
  expect(pong.attrs).toMatchObject({ type: 'result', to: 'alice@localhost/witness' });
});

afterAll(async () => {
  await node.close();
});

/** A creation request (XEP-0124 §7.1) with ver, so errors come as BOSH bodies (§17.2), not HTTP codes. */
const creation = (attrs = "to='localhost' wait='2' hold='1'", inner = ''): string =>
  `<body rid='1573741820' ${attrs} ver='1.6' xmlns='${NS_HTTPBIND}'>${inner}</body>`;

/** A POST with Transfer-Encoding: chunked (no Content-Length), written in 1 KiB pieces. */
function chunkedPost(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'text/xml; charset=utf-8' } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server closes the connection once it has answered; a write after that is expected to fail.
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err),
    );
    for (let i = 0; i < body.length; i += 1024) req.write(body.slice(i, i + 1024));
    req.end();
  });
}

function expectTerminal(answer: Awaited<ReturnType<typeof post>>, condition: string): void {
  expect(answer.status).toBe(200);
  expect(answer.contentType).toMatch(/^text\/xml/);
  expect(terminalCondition(answer)).toBe(condition);
}

describe('a body that is not well-formed XML is refused with bad-request (XEP-0124 §4, §17.2)', () => {
  it('answers an unclosed body with a terminal bad-request body', async () => {
    expectTerminal(await post(node.url, `<body rid='1' to='localhost' wait='2' ver='1.6' xmlns='${NS_HTTPBIND}'>`), 'bad-request');
  });

  it('answers mismatched end tags with bad-request', async () => {
    expectTerminal(await post(node.url, creation(undefined, '<a></b>')), 'bad-request');
  });

  it('answers content after the root element with bad-request', async () => {
    expectTerminal(await post(node.url, `${creation()}<body/>`), 'bad-request');
  });

  it('creates no session for a refused body', async () => {
    const before = node.transport.sessionCount;
    await post(node.url, creation(undefined, '<!-- hidden -->'));
    expect(node.transport.sessionCount).toBe(before);
  });
});

describe('markup that XEP-0124 §4 forbids is refused with bad-request (XMPP restricted XML, RFC 6120 §11.1)', () => {
  it.each([
    ['a comment', creation(undefined, '<!-- hi -->')],
    ['a processing instruction', `<?xml-stylesheet href='evil.xsl'?>${creation()}`],
    ['a processing instruction inside the body', creation(undefined, '<?pi data?>')],
    ['a DOCTYPE', `<!DOCTYPE body>${creation()}`],
    ['an entity declaration', `<!DOCTYPE body [<!ENTITY boom 'x'>]>${creation(undefined, '&boom;')}`],
  ])('answers %s with bad-request', async (_what, raw) => {
    expectTerminal(await post(node.url, raw), 'bad-request');
  });

  it('ends the live session a refused body names, as its terminate answer says (§17.2)', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'malformed');
    expectTerminal(await post(node.url, client.nextBody('<!-- comment -->')), 'bad-request');
    expect(node.transport.session(client.sid)).toBeUndefined();
  });

  it('accepts an XML declaration before the body (it is not a processing instruction)', async () => {
    const answer = await post(node.url, `<?xml version='1.0' encoding='UTF-8'?>${creation()}`);
    expect(bodyOf(answer).attrs.sid).toBeTruthy();
  });
});

describe('the wrapper must be a <body/> in the httpbind namespace, with only elements inside (XEP-0124 §4)', () => {
  it('answers another root element with bad-request', async () => {
    expectTerminal(await post(node.url, `<iq rid='1' to='localhost' wait='2' ver='1.6' xmlns='${NS_HTTPBIND}'/>`), 'bad-request');
  });

  it('answers a body in another namespace with bad-request', async () => {
    expectTerminal(await post(node.url, `<body rid='1' to='localhost' wait='2' ver='1.6' xmlns='urn:example:wrong'/>`), 'bad-request');
  });

  it('answers character data directly inside the body with bad-request', async () => {
    expectTerminal(await post(node.url, creation(undefined, 'hello')), 'bad-request');
  });

  it('answers a request without rid with bad-request (XEP-0124 §14.1)', async () => {
    expectTerminal(await post(node.url, `<body to='localhost' wait='2' ver='1.6' xmlns='${NS_HTTPBIND}'/>`), 'bad-request');
  });
});

describe('session creation attributes are checked (XEP-0124 §7.1, §7.2, §17.2)', () => {
  it("answers a 'to' this server does not serve with host-unknown", async () => {
    expectTerminal(await post(node.url, creation("to='example.org' wait='2' hold='1'")), 'host-unknown');
  });

  it("answers a missing 'to' with improper-addressing", async () => {
    expectTerminal(await post(node.url, creation("wait='2' hold='1'")), 'improper-addressing');
  });

  it('answers a missing wait with bad-request', async () => {
    expectTerminal(await post(node.url, creation("to='localhost' hold='1'")), 'bad-request');
  });

  it('lowers hold=5 to the configured maximum (1 by default) instead of refusing it', async () => {
    const client = new BoshClient(node.url);
    const body = bodyOf(await client.create({ hold: 5 }));
    expect(body.attrs.hold).toBe('1');
    expect(Number(body.attrs.requests)).toBeGreaterThan(1); // §7.2: requests exceeds hold
  });

  it('lowers a wait above BOSH_MAX_WAIT to it', async () => {
    const client = new BoshClient(node.url);
    expect(bodyOf(await client.create({ wait: 600 })).attrs.wait).toBe('2');
  });
});

describe('requests in a session are checked against sid and rid (XEP-0124 §14, §17.2)', () => {
  it('answers an unknown sid with item-not-found', async () => {
    const answer = await post(node.url, `<body rid='5' sid='00000000-0000-4000-8000-000000000000' xmlns='${NS_HTTPBIND}'/>`);
    expectTerminal(answer, 'item-not-found');
  });

  it('answers a rid beyond the window with item-not-found and keeps the session for its client', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'window');
    client.rid += 10;
    expectTerminal(await client.send(), 'item-not-found');
    // The sid is a bearer secret: a stray request does not end the session (Prosody's choice, not ejabberd's).
    client.rid -= 11;
    const ping = await client.send(`<iq type='get' id='alive' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(terminalCondition(ping)).toBeUndefined();
    expect(ping.text).toMatch(/id=["']alive["']/);
    expect(node.transport.session(client.sid)).toBeDefined();
  });

  it('answers a repeated rid with the very same response, byte for byte (§14.3)', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'repeat');
    const raw = client.nextBody(`<iq type='get' id='again' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const first = await post(node.url, raw);
    expect(bodyOf(first).getChild('iq')?.attrs.id).toBe('again');
    const second = await post(node.url, raw);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    // The repeat was not processed a second time: the session goes on at the next rid.
    expect((await client.ping()).attrs.type).toBe('result');
  });
});

describe('size limits answer with policy-violation, never an HTML page', () => {
  it('answers a body above BOSH_MAX_BODY_BYTES with a terminal policy-violation BOSH body (XEP-0124 §17.2)', async () => {
    const big = creation(undefined, `<message xmlns='jabber:client'><body>${'x'.repeat(8_000)}</body></message>`);
    const answer = await post(node.url, big);
    expectTerminal(answer, 'policy-violation');
    expect(answer.text).not.toMatch(/<html/i);
  });

  it('ends the session named by an oversized body sent with Content-Length (§17.2: policy-violation is terminal)', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'oversized');
    const answer = await client.send(`<message to='alice@localhost' xmlns='jabber:client'><body>${'x'.repeat(8_000)}</body></message>`);
    expectTerminal(answer, 'policy-violation');
    expect(node.transport.session(client.sid)).toBeUndefined();
  });

  it('ends the session named by an oversized chunked body (§17.2: policy-violation is terminal)', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'chunked');
    const raw = client.nextBody(`<message to='alice@localhost' xmlns='jabber:client'><body>${'x'.repeat(8_000)}</body></message>`);
    const answer = await chunkedPost(`${node.url}${BOSH_PATH}`, raw);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^<body [^>]*type='terminate'[^>]*condition='policy-violation'/);
    expect(node.transport.session(client.sid)).toBeUndefined();
  });

  it('answers a stanza above MAX_STANZA_BYTES with a policy-violation stanza error and keeps the session (RFC 6120 §8.3.3.12)', async () => {
    const client = await new BoshClient(node.url).loginPlain('bob', 'secret', 'bigstanza');
    const payloads = await client.exchange(`<message to='alice@localhost/witness' id='huge' xmlns='jabber:client'><body>${'y'.repeat(2_000)}</body></message>`);
    const refused = payloads.find((e) => e.attrs.id === 'huge');
    expect(refused?.attrs.type).toBe('error');
    expect(refused && stanzaCondition(refused)).toBe('policy-violation');
    expect((await client.ping()).attrs.type).toBe('result');
  });
});

describe('a legacy client (no ver) gets HTTP error codes instead of terminal bodies (XEP-0124 §17.1)', () => {
  it('answers a bad creation request with HTTP 400', async () => {
    const answer = await post(node.url, `<body rid='1' to='localhost' xmlns='${NS_HTTPBIND}'/>`);
    expect(answer.status).toBe(400);
  });

  it('answers malformed XML from a legacy client with HTTP 400', async () => {
    expect((await post(node.url, `<body rid='1' to='localhost' wait='2' xmlns='${NS_HTTPBIND}'>`)).status).toBe(400);
  });

  it('answers a rid beyond the window of a legacy session with HTTP 404', async () => {
    const client = new BoshClient(node.url);
    const created = await client.create({ ver: undefined });
    expect(bodyOf(created).attrs.ver).toBeUndefined();
    client.rid += 10;
    const answer = await client.send();
    expect(answer.status).toBe(404);
  });
});

describe('CORS for browser clients on other origins (Fetch standard CORS protocol)', () => {
  it('answers a pre-flight from an allowed origin with the origin echoed and POST allowed', async () => {
    const res = await request(node.url)
      .options(BOSH_PATH)
      .set('Origin', ALLOWED_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(res.headers['access-control-allow-headers']).toMatch(/content-type/i);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it('answers a pre-flight from another origin with 403 and no CORS grant', async () => {
    const res = await request(node.url).options(BOSH_PATH).set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes an allowed origin on an actual POST', async () => {
    const answer = await post(node.url, creation(), { Origin: ALLOWED_ORIGIN });
    expect(answer.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(bodyOf(answer).attrs.sid).toBeTruthy();
  });

  it('refuses a POST from another origin with 403 before it creates a session', async () => {
    const before = node.transport.sessionCount;
    const answer = await post(node.url, creation(), { Origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
    expect(answer.contentType).toMatch(/application\/json/);
    expect(node.transport.sessionCount).toBe(before);
  });

  it('refuses a POST from another origin that names a live session, leaving that session alone', async () => {
    const raw = witness.nextBody(`<message to='bob@localhost' xmlns='jabber:client'><body>forged</body></message>`);
    witness.rid--; // the forged request must not consume the witness's rid
    const answer = await post(node.url, raw, { Origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
  });
});

describe('other HTTP requests to the node', () => {
  it('answers GET on the BOSH endpoint with 405, a JSON reason and Allow: POST, OPTIONS (XEP-0124 §5)', async () => {
    const res = await request(node.url).get(BOSH_PATH);
    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers.allow).toMatch(/POST/);
    expect(res.body.error).toBe('method_not_allowed');
  });

  it('answers /healthz with 200 and status ok', async () => {
    const res = await request(node.url).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers an unknown path with a JSON 404', async () => {
    const res = await request(node.url).get('/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });
});
