/**
 * Cluster mode, a message between two sessions of the same node: it takes no bus hop, so the node keeps
 * it in its journal (journal:<node> in Redis) until the recipient's client confirms it (XEP-0124 §9.1).
 * A node SIGKILLed before that confirmation leaves the entry, and the reaper on another node routes it
 * again: the recipient gets it at its next login, the same stanza with the same id.
 */
import Redis from 'ioredis';
import type { Element } from 'ltx';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../../src/app';
import { BoshTestClient } from '../support/bosh-client';
import { clusterNodeConfig } from '../support/cluster-config';
import { freePort, TestRedis } from '../support/redis-server';
import { ClusterNodeProcess } from '../e2e/support/node-process';

const USERS = 'alice:a,bob:b,carol:c,dave:d';
let redis: TestRedis;
let inspect: Redis;
const clients: BoshTestClient[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
  inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  inspect.disconnect();
  await redis.stop();
});

async function login(url: string, user: string, resource: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(url, user, user[0] as string, resource);
  clients.push(client);
  return client;
}

/** Logs in and sends initial presence; resolves once the cluster's route table shows the resource available. */
async function online(url: string, user: string, resource: string): Promise<BoshTestClient> {
  const client = await login(url, user, resource);
  client.send(`<presence xmlns='jabber:client'/>`);
  await until(`${user}/${resource} available`, async () => {
    const json = await inspect.hget(`bosh:routes:${user}@localhost`, resource);
    return json !== null && (JSON.parse(json) as { available: boolean }).available;
  });
  return client;
}

/** Bounded polling for a state another node or Redis reaches by itself. */
async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const withId = (id: string) => (e: Element) => e.name === 'message' && e.attrs.id === id;
const chat = (to: string, id: string, body: string) => `<message xmlns='jabber:client' to='${to}' type='chat' id='${id}'><body>${body}</body></message>`;
const journalLength = (node: string) => inspect.xlen(`bosh:journal:${node}`);
const stanzaIdOf = (message: Element) => message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string | undefined;

describe('cluster: a message between two sessions of one node, the node SIGKILLed before the recipient confirmed it', () => {
  let dir: string;
  let doomed: ClusterNodeProcess;
  let survivor: RunningNode;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bosh-journal-'));
    doomed = await ClusterNodeProcess.start({
      id: 'doomed',
      port: await freePort(),
      redisUrl: redis.url,
      secret: 'cluster-secret-for-tests',
      users: USERS,
      logDir: dir,
      heartbeatMs: 200,
      nodeTtlMs: 800,
    });
    survivor = await startNode(clusterNodeConfig(redis.url, 'survivor', { USERS }));
  });
  afterAll(async () => {
    await doomed.kill();
    await survivor.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is routed again by the reaper on the surviving node, and the recipient gets it at its next login with the same id and stanza-id (XEP-0124 §9.1, XEP-0160, XEP-0359)', async () => {
    const url = `${doomed.url}/http-bind`;
    const alice = await online(url, 'alice', 'desk');
    const bob = await online(url, 'bob', 'phone');
    // Bob's client reads what its held request brings and sends nothing more: it never confirms it.
    bob.stopRequesting();
    alice.send(chat('bob@localhost', 'crash-1', 'before the crash'));
    const first = await bob.waitFor(withId('crash-1'));
    // Alice's request was answered once the message was in the journal; it never went through the bus.
    await until('the journal entry', async () => (await journalLength('doomed')) === 1);
    expect(await inspect.xlen('bosh:bus:doomed')).toBe(0);

    expect(await doomed.kill()).toEqual([]);
    // The reaper routes the entry again (bob has no session: offline storage) and removes the journal once empty.
    await until('the reaper to replay the dead node’s journal', async () => (await inspect.exists('bosh:journal:doomed')) === 0, 15_000);
    expect(await survivor.stores.offline.count('bob')).toBe(1);

    const again = await online(survivor.boshUrl, 'bob', 'laptop');
    const stored = await again.waitFor(withId('crash-1'));
    expect(stored.getChildText('body')).toBe('before the crash');
    expect(stored.attrs.from).toBe('alice@localhost/desk');
    expect(stored.getChild('delay', 'urn:xmpp:delay')).toBeDefined();
    expect(stanzaIdOf(stored)).toBe(stanzaIdOf(first));
    await again.terminate();
  });
});

describe('cluster: a message between two sessions of one node, confirmed by the recipient’s client', () => {
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode(clusterNodeConfig(redis.url, 'steady', { USERS }));
  });
  afterAll(async () => {
    await node.close();
  });

  it('is in the journal until the client’s next requests confirm it, then leaves no entry (XEP-0124 §9.1)', async () => {
    const alice = await online(node.boshUrl, 'alice', 'steady-a');
    const bob = await online(node.boshUrl, 'bob', 'steady-b');
    bob.stopRequesting();
    alice.send(chat('bob@localhost', 'kept-1', 'confirmed later'));
    await bob.waitFor(withId('kept-1'));
    await until('the journal entry', async () => (await journalLength('steady')) === 1);
    bob.resumeRequesting();
    await until('the confirmation to remove the entry', async () => (await journalLength('steady')) === 0);
    // Chat states are not worth an entry; a confirmed chat leaves none either.
    alice.send(`<message xmlns='jabber:client' to='bob@localhost' type='chat' id='state-1'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    alice.send(chat('bob@localhost', 'kept-2', 'confirmed at once'));
    await bob.waitFor(withId('kept-2'));
    await until('the confirmation to remove the entry', async () => (await journalLength('steady')) === 0);
    await alice.terminate();
    await bob.terminate();
  });
});

describe('cluster: a message between two sessions of one node whose recipient’s session ends before its client confirmed it', () => {
  let node: RunningNode;

  beforeAll(async () => {
    // The shortest inactivity allowed: the silent client's session ends after 5 s.
    node = await startNode(clusterNodeConfig(redis.url, 'idle', { USERS, BOSH_INACTIVITY: '5' }));
  });
  afterAll(async () => {
    await node.close();
  });

  it('is routed again by the ending session (offline storage) and its entry settled, so nothing is left to route it a second time (XEP-0124 §10)', async () => {
    const alice = await online(node.boshUrl, 'alice', 'idle-a');
    const bob = await online(node.boshUrl, 'bob', 'idle-b');
    bob.stopRequesting();
    alice.send(chat('bob@localhost', 'ended-1', 'never confirmed'));
    await bob.waitFor(withId('ended-1'));
    await until('the journal entry', async () => (await journalLength('idle')) === 1);
    await until('the inactive session to route it to offline storage', async () => (await node.stores.offline.count('bob')) === 1, 15_000);
    await until('the ended session’s entry to be settled', async () => (await journalLength('idle')) === 0);
    const again = await online(node.boshUrl, 'bob', 'idle-b2');
    expect((await again.waitFor(withId('ended-1'))).getChildText('body')).toBe('never confirmed');
    // Handed over from offline storage, it is kept there until confirmed: no journal entry of its own.
    expect(await journalLength('idle')).toBe(0);
    await until('the confirmation to empty offline storage', async () => (await node.stores.offline.count('bob')) === 0);
    await alice.terminate();
    await again.terminate();
  });
});

describe('cluster: a node that restarts under the same id routes its journal from before again, once', () => {
  let node: RunningNode | undefined;

  afterAll(async () => {
    await node?.close();
  });

  it('waits while a reaper holds the node’s reap lock, then takes only the entries from before it started and gives the lock back', async () => {
    const journal = 'bosh:journal:phoenix';
    const leftover = `<message xmlns="jabber:client" from="dave@localhost/old" to="carol@localhost" type="chat" id="left-1"><body>from before</body></message>`;
    await inspect.xadd(journal, '*', 'm', JSON.stringify({ kind: 'deliver', to: 'carol@localhost', stanza: leftover, hops: 0 }));
    // A reaper on another node took this node for dead and is replaying the same journal.
    await inspect.set('bosh:reap:phoenix', 'another-node');
    node = await startNode(clusterNodeConfig(redis.url, 'phoenix', { USERS }));
    const running = node;

    // Meanwhile the restarted node delivers to its own sessions: that entry is its own, not a leftover.
    const alice = await online(running.boshUrl, 'alice', 'phoenix-a');
    const bob = await online(running.boshUrl, 'bob', 'phoenix-b');
    bob.stopRequesting();
    alice.send(chat('bob@localhost', 'live-1', 'after the restart'));
    await bob.waitFor(withId('live-1'));
    await until('both entries', async () => (await inspect.xlen(journal)) === 2);
    expect(await running.stores.offline.count('carol')).toBe(0);

    await inspect.del('bosh:reap:phoenix');
    await until('the leftover to be routed again', async () => (await running.stores.offline.count('carol')) === 1);
    // Routed first, deleted after: the leftover leaves the journal once its route is done.
    const entries = async (): Promise<string[]> =>
      ((await inspect.xrange(journal, '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[1] ?? '');
    await until('the leftover deleted from the journal', async () => (await entries()).length === 1);
    expect(await entries()).toEqual([expect.stringContaining('live-1')]);
    expect(await inspect.exists('bosh:reap:phoenix')).toBe(0);

    const carol = await online(running.boshUrl, 'carol', 'phoenix-c');
    expect((await carol.waitFor(withId('left-1'))).getChildText('body')).toBe('from before');
    expect(await running.stores.offline.count('carol')).toBeLessThanOrEqual(1);
    bob.resumeRequesting();
    await until('bob’s confirmation', async () => (await inspect.xlen(journal)) === 0);
    for (const client of [alice, bob, carol]) await client.terminate();
  });
});
