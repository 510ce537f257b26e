import Redis from 'ioredis';
import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';
import { TestRedis } from '../support/redis-server';

const SECRET = 'cluster-secret-for-tests';
let redis: TestRedis;
let inspect: Redis;
const clients: BoshTestClient[] = [];

function nodeConfig(id: string, extra: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    USERS: 'alice:a,bob:b,carol:c,dave:d,erin:e',
    LOG_LEVEL: 'silent',
    REDIS_URL: redis.url,
    CLUSTER_SECRET: SECRET,
    NODE_ID: id,
    WEB_CLIENT: 'false',
    HEARTBEAT_MS: '200',
    NODE_TTL_MS: '800',
    ...extra,
  });
}

async function login(urls: string | string[], user: string, resource: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(urls, user, user[0] as string, resource);
  clients.push(client);
  return client;
}

const chat = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;
const presence = (from: string, type?: string) => (e: Element) => e.name === 'presence' && e.attrs.from === from && e.attrs.type === type;

async function befriend(a: BoshTestClient, aBare: string, b: BoshTestClient, bBare: string): Promise<void> {
  // Roster pushes go to interested resources only (RFC 6121 §2.1.6): both ask for the roster first.
  await a.iq(`<iq type='get' id='roster-a' xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>`, 'roster-a');
  await b.iq(`<iq type='get' id='roster-b' xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>`, 'roster-b');
  a.send(`<presence to='${bBare}' type='subscribe' xmlns='jabber:client'/>`);
  await b.waitFor((e) => e.name === 'presence' && e.attrs.type === 'subscribe' && e.attrs.from === aBare);
  b.send(`<presence to='${aBare}' type='subscribed' xmlns='jabber:client'/><presence to='${aBare}' type='subscribe' xmlns='jabber:client'/>`);
  await a.waitFor((e) => e.name === 'presence' && e.attrs.type === 'subscribe' && e.attrs.from === bBare);
  a.send(`<presence to='${bBare}' type='subscribed' xmlns='jabber:client'/>`);
  await a.waitFor((e) => e.getChild('query')?.getChild('item')?.attrs.subscription === 'both' && e.getChild('query')?.getChild('item')?.attrs.jid === bBare);
}

/** Bounded polling for a state another node or Redis reaches by itself. */
async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a client's route in Redis shows its initial presence (RouteEntry.available). */
async function availableInRedis(client: BoshTestClient): Promise<boolean> {
  const [bare, resource] = client.jid.split('/') as [string, string];
  const json = await inspect.hget(`bosh:routes:${bare}`, resource);
  return json !== null && (JSON.parse(json) as { available: boolean }).available;
}

beforeAll(async () => {
  redis = await TestRedis.start();
  inspect = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  inspect.disconnect();
  await redis.stop();
});

describe('cluster: any node answers any session (Redis registry, forwarding, bus)', () => {
  let n1: RunningNode;
  let n2: RunningNode;

  beforeAll(async () => {
    n1 = await startNode(nodeConfig('n1'));
    n2 = await startNode(nodeConfig('n2'));
  });

  afterAll(async () => {
    await n1.close();
    await n2.close();
  });

  it('logs in and keeps a session whose requests alternate between nodes', async () => {
    const alice = await login([n1.boshUrl, n2.boshUrl], 'alice', 'rr');
    const ping = await alice.iq(`<iq type='get' id='p' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'p');
    expect(ping.attrs.type).toBe('result');
    expect(await inspect.get(`bosh:sid:${(alice as unknown as { sid: string }).sid}`)).toBe('n1');
    await alice.terminate();
  });

  it('delivers presence and chat between users whose sessions live on different nodes', async () => {
    const alice = await login(n1.boshUrl, 'alice', 'one');
    const bob = await login(n2.boshUrl, 'bob', 'two');
    alice.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence xmlns='jabber:client'/>`);
    await befriend(alice, 'alice@localhost', bob, 'bob@localhost');
    await alice.waitFor(presence(bob.jid));
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><body>from n1</body></message>`);
    expect((await bob.waitFor(chat('from n1'))).attrs.from).toBe(alice.jid);
    bob.send(`<message to='${alice.jid}' type='chat' xmlns='jabber:client'><body>from n2</body></message>`);
    await alice.waitFor(chat('from n2'));
    await alice.terminate();
    await bob.waitFor(presence(alice.jid, 'unavailable'));
    await bob.terminate();
  });

  it('answers a request held on a node that does not own the session when a stanza arrives (hold through the hop)', async () => {
    // carol's session lives on n1 but every request after login goes to n2. Her wait (60 s) is far
    // beyond waitFor's bound (5 s): the message can only arrive by releasing the held request.
    const carol = await BoshTestClient.login([n1.boshUrl, n1.boshUrl, n1.boshUrl, n1.boshUrl, n2.boshUrl], 'carol', 'c', 'held', 60);
    clients.push(carol);
    const bob = await login(n2.boshUrl, 'bob', 'sender');
    // Her poll, sent to n2, is held by the owner n1 (forwarded) before the message is sent.
    await until('carol’s poll held on n1', () => n1.transport.heldCount > 0);
    bob.send(`<message to='${carol.jid}' type='chat' xmlns='jabber:client'><body>wake up</body></message>`);
    await carol.waitFor(chat('wake up'));
    await carol.terminate();
    await bob.terminate();
  });

  it('stores a message for a user offline on every node, and delivers it at login on another node', async () => {
    const alice = await login(n1.boshUrl, 'alice', 'off');
    alice.send(`<message to='carol@localhost' type='chat' xmlns='jabber:client'><body>stored in redis</body></message>`);
    await until('the message in bosh:offline:carol', async () => (await inspect.llen('bosh:offline:carol')) > 0);
    expect(await inspect.llen('bosh:offline:carol')).toBe(1);
    const carol = await login(n2.boshUrl, 'carol', 'later');
    carol.send(`<presence xmlns='jabber:client'/>`);
    const stored = await carol.waitFor(chat('stored in redis'));
    expect(stored.getChild('delay', 'urn:xmpp:delay')).toBeDefined();
    await alice.terminate();
    await carol.terminate();
  });

  it('gives an unknown sid item-not-found from any node', async () => {
    const res = await fetch(n2.boshUrl, { method: 'POST', body: `<body rid='5' sid='nope' xmlns='http://jabber.org/protocol/httpbind'/>` });
    expect(await res.text()).toContain("condition='item-not-found'");
  });
});

describe('cluster: a node that stops gracefully', () => {
  it('tells contacts on other nodes its users left, and leaves no sids or routes behind', async () => {
    const n1 = await startNode(nodeConfig('g1'));
    const n2 = await startNode(nodeConfig('g2'));
    const dave = await login(n1.boshUrl, 'dave', 'graceful');
    const erin = await login(n2.boshUrl, 'erin', 'watcher');
    dave.send(`<presence xmlns='jabber:client'/>`);
    erin.send(`<presence xmlns='jabber:client'/>`);
    await befriend(dave, 'dave@localhost', erin, 'erin@localhost');
    await erin.waitFor(presence(dave.jid));
    await n1.close();
    await erin.waitFor(presence(dave.jid, 'unavailable'));
    const routes = await inspect.hgetall('bosh:routes:dave@localhost');
    expect(Object.values(routes).some((json) => JSON.parse(json).node === 'g1')).toBe(false);
    expect(await inspect.scard('bosh:node:g1:sids')).toBe(0);
    expect(dave.terminated).toBe('system-shutdown');
    await erin.terminate();
    await n2.close();
  });
});

describe('cluster: Redis outage', () => {
  it('keeps local sessions working, fails what needs Redis with a defined error, and recovers by itself', async () => {
    const n1 = await startNode(nodeConfig('o1'));
    const n2 = await startNode(nodeConfig('o2'));
    const alice = await login(n1.boshUrl, 'alice', 'outage');
    const bob = await login(n2.boshUrl, 'bob', 'outage');
    alice.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence xmlns='jabber:client'/>`);
    // Both initial presences are processed (their routes say available) before Redis goes away.
    await until('alice and bob available in Redis', async () => (await availableInRedis(alice)) && (await availableInRedis(bob)));

    await redis.stop();
    // A local ping needs no Redis.
    const ping = await alice.iq(`<iq type='get' id='during' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'during');
    expect(ping.attrs.type).toBe('result');
    // A roster read needs Redis: a defined error, at once.
    const roster = await alice.iq(`<iq type='get' id='r-out' xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>`, 'r-out');
    expect(roster.attrs.type).toBe('error');
    expect(roster.getChild('error')?.attrs.type).toBe('wait');
    // A new session needs Redis: a defined failure, not a hang (a USERS account passes SASL without
    // Redis, its resource binding cannot be registered).
    await expect(BoshTestClient.login(n2.boshUrl, 'carol', 'c', 'x')).rejects.toThrow(/login failed|no session|bind failed/);

    await redis.start();
    // The nodes re-register their sessions and routes: cross-node delivery works again.
    let delivered = false;
    // Until then a message may find no route (lost or stored): each attempt waits for delivery.
    for (let attempt = 0; attempt < 15 && !delivered; attempt++) {
      alice.send(`<message to='${bob.jid}' type='chat' xmlns='jabber:client'><body>after ${attempt}</body></message>`);
      delivered = await bob
        .waitFor((e) => e.name === 'message' && /^after /.test(e.getChildText('body') ?? ''), 600)
        .then(
          () => true,
          () => false,
        );
    }
    expect(delivered).toBe(true);
    expect(await inspect.get(`bosh:sid:${(bob as unknown as { sid: string }).sid}`)).toBe('o2');
    await alice.terminate();
    await bob.terminate();
    await n1.close();
    await n2.close();
  });
});
