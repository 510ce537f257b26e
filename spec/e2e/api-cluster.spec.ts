/**
 * End-to-end: the business API on the cluster as deployed — nginx (round-robin, no stickiness) in
 * front of three node processes and a real redis-server (support/cluster.ts). API calls go to each
 * node in turn; the clients' BOSH requests land on any node and are forwarded to the session's owner.
 *
 *  - a control message pushed on any node answers a Strophe.js client's held request on its owner;
 *  - a control message stored for an offline user is delivered at login through another node;
 *  - a login token issued on one node logs Strophe in through nginx (every node verifies it);
 *  - a session prebound on one node is attached by Strophe.js through nginx, and chats;
 *  - a session kicked through another node than its owner ends with policy-violation;
 *  - a group created on one node, a member added on another and a message pushed to it on the third:
 *    the members in the room get it, a member outside gets the notice, the member removed through
 *    another node is taken out of the room (321), and every node's history returns the message.
 *
 * Run: npx jest spec/e2e/api-cluster.spec.ts (needs /usr/sbin/nginx and redis-server).
 */
import request from 'supertest';
import { startCluster, type RunningCluster } from './support/cluster';
import { $pres, Strophe, StropheClient, bodyOf, destroyXhrAgents, type XmlElement } from './support/strophe-client';

const PASSWORD = 'secret';
const USERS = ['alice', 'bob', 'carol', 'dave'].map((u) => `${u}:${PASSWORD}`).join(',');
const KEY = 'cluster-key-0123456789abcdef';
const NS_CONTROL = 'urn:bosh-gateway:control:0';
/** Far below the BOSH wait (60 s): a push held back until a held request times out misses it. */
const BOUND_MS = 5_000;

let cluster: RunningCluster;
const clients: StropheClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    users: USERS,
    extraEnv: { API_KEYS: `ops:${KEY}`, API_TOKEN_SECRET: 'cluster-token-secret-0123456789abcdef' },
  });
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close();
  destroyXhrAgents();
  const left = (await cluster?.stop()) ?? [];
  if (left.length > 0) throw new Error(`processes left after SIGKILL of their groups: ${JSON.stringify(left)}`);
}, 30_000);

/** The API of one node (not through nginx: the test chooses which node serves the call). */
const api = (node: number, method: 'get' | 'post' | 'put' | 'delete', path: string): request.Test =>
  request(cluster.nodes[node]!.url)[method](`/api/v1${path}`).set('Authorization', `Bearer ${KEY}`);

async function online(label: string, jid: string, password = PASSWORD, options = {}): Promise<StropheClient> {
  const client = new StropheClient(label, cluster.boshUrl, options);
  clients.push(client);
  await client.login(jid, password);
  await client.becomeAvailable();
  return client;
}

const isControl = (type: string) => (m: XmlElement) => m.getElementsByTagNameNS(NS_CONTROL, 'control')[0]?.getAttribute('type') === type;

describe('the business API through nginx in front of three nodes', () => {
  it('delivers a control message pushed on any node to the client on its owner at once', async () => {
    const bob = await online('bob', 'bob@localhost');
    for (const node of [0, 1, 2]) {
      const res = await api(node, 'post', '/control').send({ to: ['bob'], type: `ping.${node}`, data: { node } });
      expect(res.body.results).toEqual([{ to: 'bob@localhost', status: 'delivered' }]);
      await bob.waitForStanza('message', isControl(`ping.${node}`), BOUND_MS);
    }
  });

  it('stores a control message for an offline user on one node and delivers it at login through the others', async () => {
    const res = await api(2, 'post', '/control').send({ to: ['carol'], type: 'invite', data: { room: 1 }, store: true, ttl_seconds: 600 });
    expect(res.body.results).toEqual([{ to: 'carol@localhost', status: 'stored' }]);
    const carol = await online('carol', 'carol@localhost');
    await carol.waitForStanza('message', isControl('invite'), BOUND_MS);
  });

  it('logs Strophe in through nginx with a token issued on one node', async () => {
    const { body } = await api(1, 'post', '/users/dave/token').send({});
    const dave = await online('dave-token', 'dave@localhost', body.token as string, { mechanisms: [Strophe.SASLPlain] });
    expect(dave.jid).toMatch(/^dave@localhost\//);
  });

  it('prebinds a session on one node that Strophe attaches to through nginx, and that chats', async () => {
    const { body, status } = await api(0, 'post', '/sessions').send({ username: 'alice', resource: 'page' });
    expect(status).toBe(201);
    expect(body.sid).toMatch(/\.node-a$/);
    const page = new StropheClient('alice-page', cluster.boshUrl);
    clients.push(page);
    const from = page.statuses.length;
    page.conn.attach(body.jid as string, body.sid as string, body.rid as number, page.onStatus, body.wait as number, body.hold as number);
    await page.waitForStatus(['ATTACHED'], BOUND_MS, from);
    await page.becomeAvailable();
    const bob = await online('bob-chat', 'bob@localhost');
    bob.sendChat('alice@localhost/page', 'to the page');
    await page.waitForChat('to the page', BOUND_MS);
    page.sendChat(bob.jid, 'from the page');
    await bob.waitForChat('from the page', BOUND_MS);
  });

  it('ends a session through a node that is not its owner (policy-violation)', async () => {
    const { body } = await api(0, 'post', '/sessions').send({ username: 'dave', resource: 'kicked' });
    const victim = new StropheClient('dave-kicked', cluster.boshUrl);
    clients.push(victim);
    victim.conn.attach(body.jid as string, body.sid as string, body.rid as number, victim.onStatus, body.wait as number, body.hold as number);
    await victim.waitForStatus(['ATTACHED'], BOUND_MS);
    const shown = await api(2, 'get', '/users/dave');
    expect(shown.body.sessions).toEqual(expect.arrayContaining([expect.objectContaining({ resource: 'kicked', node: 'node-a' })]));
    expect((await api(2, 'delete', '/users/dave/sessions/kicked')).status).toBe(204);
    const ended = await victim.waitForStatus(['CONNFAIL', 'DISCONNECTED', 'ERROR'], BOUND_MS);
    expect(victim.traffic.join('\n')).toContain('policy-violation');
    expect(ended.status).not.toBe('CONNECTED');
  });
});

describe('groups through the API on three nodes', () => {
  const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
  const NS_NOTICE = 'urn:bosh-gateway:muc-notice:0';
  const statusOf = (p: XmlElement): string[] => Array.from(p.getElementsByTagNameNS(NS_MUC_USER, 'status')).map((s) => s.getAttribute('code') ?? '');

  it('creates on one node, changes members on others (XEP-0045 §9.4 321), pushes on a third, and any node reads the history', async () => {
    // The XHR shim allows a browser's sockets per host (support/xhr.ts) and each live client holds
    // one with its long poll: the clients of the tests above go first.
    for (const client of clients.splice(0)) await client.close();
    const created = await api(0, 'post', '/groups').send({ name: 'ops', members: ['alice', 'carol'] });
    expect(created.status).toBe(201);
    const room = created.body.jid as string;
    expect((await api(1, 'put', '/groups/ops/members/bob')).status).toBe(204);

    const enter = async (client: StropheClient, nick: string): Promise<void> => {
      client.conn.send($pres({ to: `${room}/${nick}` }).c('x', { xmlns: 'http://jabber.org/protocol/muc' }));
      await client.waitForStanza('presence', (p) => p.getAttribute('from') === `${room}/${nick}` && statusOf(p).includes('110'), BOUND_MS);
    };
    const alice = await online('alice-ops', 'alice@localhost');
    const bob = await online('bob-ops', 'bob@localhost');
    await enter(alice, 'alice');
    await enter(bob, 'bob');
    const carol = await online('carol-ops', 'carol@localhost');

    const pushed = await api(2, 'post', '/messages').send({ to: { group: 'ops' }, body: 'rolling restart' });
    expect(pushed.body.results).toEqual([expect.objectContaining({ to: room, status: 'delivered', seq: 1 })]);
    for (const client of [alice, bob]) {
      const message = await client.waitForStanza('message', (m) => bodyOf(m) === 'rolling restart', BOUND_MS);
      expect(message.getAttribute('from')).toBe(room);
    }
    const notice = await carol.waitForStanza('message', (m) => m.getElementsByTagNameNS(NS_NOTICE, 'notice').length > 0, BOUND_MS);
    expect(notice.getElementsByTagNameNS(NS_NOTICE, 'notice')[0]?.getAttribute('seq')).toBe('1');

    expect((await api(0, 'delete', '/groups/ops/members/bob')).status).toBe(204);
    for (const client of [bob, alice]) {
      const gone = await client.waitForStanza(
        'presence',
        (p) => p.getAttribute('from') === `${room}/bob` && p.getAttribute('type') === 'unavailable' && statusOf(p).includes('321'),
        BOUND_MS,
      );
      expect(gone).toBeDefined();
    }

    for (const node of [0, 1, 2]) {
      const history = await api(node, 'get', '/groups/ops/history?after=0');
      expect(history.body.messages.map((m: { seq: number; body: string }) => [m.seq, m.body])).toEqual([[1, 'rolling restart']]);
    }
    const listed = await api(1, 'get', '/users/bob/groups');
    expect(listed.body.groups).toEqual([]);
  });
});
