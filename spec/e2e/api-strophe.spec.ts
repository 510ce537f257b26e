/**
 * End-to-end: the business API with real Strophe.js 5 clients (Node build, BOSH) against a node
 * started in-process: a login token as the SASL PLAIN password, a control message answering a held
 * request at once, a prebound session attached with Strophe's attach(jid, sid, rid) that chats, and a
 * group made through the API whose members — one in the room, one not — get a message pushed to it,
 * which the history endpoint then returns with its sequence number.
 */
import request from 'supertest';
import { startGateway, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { Strophe, StropheClient, $msg, $pres, bodyOf, destroyXhrAgents, type XmlElement } from './support/strophe-client';

const KEY = 'e2e-key-0123456789abcdef';
const NS_CONTROL = 'urn:bosh-gateway:control:0';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_SID = 'urn:xmpp:sid:0';
const NS_NOTICE = 'urn:bosh-gateway:muc-notice:0';

let gateway: RunningGateway;
const clients: StropheClient[] = [];

function newClient(label: string, options: ConstructorParameters<typeof StropheClient>[2] = {}): StropheClient {
  const client = new StropheClient(label, gateway.boshUrl, options);
  clients.push(client);
  return client;
}

const api = (method: 'get' | 'post', path: string): request.Test => request(gateway.url)[method](`/api/v1${path}`).set('Authorization', `Bearer ${KEY}`);

/** The gateway holds the session's one request and has nothing queued for it (XEP-0124 §8). */
function heldByGateway(sid: string): boolean {
  const session = gateway.transport.session(sid);
  return session?.heldCount === 1 && session.queuedCount === 0;
}

/** What docs/api.md shows a page doing with control messages. */
function onControl(client: StropheClient, received: Array<{ type: string | null; data: unknown }>): void {
  client.conn.addHandler(
    (message: XmlElement) => {
      const control = message.getElementsByTagNameNS(NS_CONTROL, 'control')[0];
      if (control) received.push({ type: control.getAttribute('type'), data: JSON.parse(control.textContent ?? 'null') });
      return true;
    },
    NS_CONTROL,
    'message',
    null,
    null,
    null,
  );
}

beforeAll(async () => {
  gateway = await startGateway({ API_KEYS: `e2e:${KEY}`, API_TOKEN_SECRET: 'e2e-token-secret-0123456789abcdef' });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  destroyXhrAgents();
  await gateway.close();
});

describe('a login token with Strophe.js', () => {
  it('logs Strophe in through SASL PLAIN with the token as the password', async () => {
    const { body } = await api('post', '/users/bob/token').send({ ttl_seconds: 300 });
    // SCRAM cannot carry a token (the server holds keys of the real password): PLAIN only.
    const client = newClient('bob-token', { mechanisms: [Strophe.SASLPlain] });
    await client.login('bob@localhost', body.token as string);
    expect(client.saslNegotiation().chosen).toBe('PLAIN');
    expect(client.jid).toMatch(/^bob@localhost\/.+/);
  });

  it('is refused once the token is voided', async () => {
    const { body } = await api('post', '/users/bob/token').send({});
    await request(gateway.url).delete('/api/v1/users/bob/tokens').set('Authorization', `Bearer ${KEY}`).expect(204);
    const client = newClient('bob-voided', { mechanisms: [Strophe.SASLPlain] });
    const outcome = await client.attemptLogin('bob@localhost', body.token as string);
    expect(outcome.status).toBe('AUTHFAIL');
  });
});

describe('a control message to a Strophe.js client', () => {
  it("answers the client's held request at once, well within its wait", async () => {
    const alice = newClient('alice');
    await alice.login('alice@localhost', TEST_PASSWORD);
    await alice.becomeAvailable();
    const received: Array<{ type: string | null; data: unknown }> = [];
    onControl(alice, received);
    await alice.quiesce(heldByGateway);
    const mark = alice.traffic.length;
    const res = await api('post', '/control').send({ to: ['alice'], type: 'order.updated', data: { order: 42 } });
    expect(res.body.results).toEqual([{ to: 'alice@localhost', status: 'delivered' }]);
    // Strophe waits up to 60 s (its wait) on the held request; the push arrives on it long before.
    await alice.waitForStanza('message', (m) => m.getElementsByTagNameNS(NS_CONTROL, 'control').length > 0, 5_000);
    expect(received).toEqual([{ type: 'order.updated', data: { order: 42 } }]);
    // It came as the answer to the request already held: the client sent nothing in between.
    const since = alice.traffic.slice(mark);
    const arrival = since.findIndex((line) => line.includes(' RECV ') && line.includes(NS_CONTROL));
    expect(since.slice(0, arrival).filter((line) => line.includes(' SENT '))).toEqual([]);
  });
});

describe('a prebound session attached by Strophe.js', () => {
  it('attaches with attach(jid, sid, rid) and chats both ways', async () => {
    const { body, status } = await api('post', '/sessions').send({ username: 'bob', resource: 'page' });
    expect(status).toBe(201);
    const page = newClient('bob-page');
    const from = page.statuses.length;
    page.conn.attach(body.jid as string, body.sid as string, body.rid as number, page.onStatus, body.wait as number, body.hold as number);
    await page.waitForStatus(['ATTACHED'], 5_000, from);
    await page.becomeAvailable();

    const alice = newClient('alice-chat');
    await alice.login('alice@localhost', TEST_PASSWORD);
    await alice.becomeAvailable();
    alice.conn.send($msg({ to: 'bob@localhost/page', type: 'chat' }).c('body').t('hi page'));
    const toPage = await page.waitForChat('hi page');
    expect(toPage.getAttribute('from')).toBe(alice.jid);
    page.sendChat(alice.jid, 'hi alice');
    const toAlice = await alice.waitForChat('hi alice');
    expect(bodyOf(toAlice)).toBe('hi alice');
    expect(toAlice.getAttribute('from')).toBe('bob@localhost/page');
  });
});

describe('a group made through the API, with Strophe.js members', () => {
  it('delivers a message pushed to the group to a member in the room (XEP-0045 §7.4, XEP-0359 stanza-id) and a notice to one outside it, and the history returns it with its sequence number', async () => {
    const created = await api('post', '/groups').send({ name: 'Release crew', id: 'release', members: ['alice', 'bob'] });
    expect(created.status).toBe(201);
    const room = created.body.jid as string;

    // Alice enters the room as a client does (XEP-0045 §7.2); Bob is online but not in it.
    const alice = newClient('alice-group');
    await alice.login('alice@localhost', TEST_PASSWORD);
    await alice.becomeAvailable();
    alice.conn.send($pres({ to: `${room}/alice` }).c('x', { xmlns: NS_MUC }));
    await alice.waitForStanza('presence', (p) => p.getAttribute('from') === `${room}/alice` && hasStatus(p, '110'));
    const bob = newClient('bob-group');
    await bob.login('bob@localhost', TEST_PASSWORD);
    await bob.becomeAvailable();

    const pushed = await api('post', '/messages').send({ to: { group: 'release' }, body: 'Release train leaves at 5' });
    expect(pushed.status).toBe(200);
    const [result] = pushed.body.results as Array<{ to: string; status: string; seq: number; archive_id: string }>;
    expect(result).toEqual({ to: room, status: 'delivered', seq: 1, archive_id: expect.any(String) });

    const message = await alice.waitForStanza('message', (m) => bodyOf(m) === 'Release train leaves at 5');
    expect([message.getAttribute('type'), message.getAttribute('from')]).toEqual(['groupchat', room]);
    const stanzaId = message.getElementsByTagNameNS(NS_SID, 'stanza-id')[0];
    expect([stanzaId?.getAttribute('by'), stanzaId?.getAttribute('id')]).toEqual([room, result?.archive_id]);

    const notice = await bob.waitForStanza('message', (m) => m.getElementsByTagNameNS(NS_NOTICE, 'notice').length > 0);
    expect(notice.getElementsByTagNameNS(NS_NOTICE, 'notice')[0]?.getAttribute('seq')).toBe('1');

    // Bob's page catches up from the last sequence number it saw (none: 0).
    const history = await api('get', '/groups/release/history?after=0');
    expect(history.status).toBe(200);
    expect(history.body.messages).toEqual([
      expect.objectContaining({ seq: 1, id: result?.archive_id, from: room, type: 'groupchat', body: 'Release train leaves at 5' }),
    ]);
    expect(history.body.complete).toBe(true);
  });
});

function hasStatus(presence: XmlElement, code: string): boolean {
  const x = presence.getElementsByTagNameNS(NS_MUC_USER, 'x')[0];
  return x !== undefined && Array.from(x.getElementsByTagName('status')).some((s) => s.getAttribute('code') === code);
}
