/**
 * What users leave behind survives a restart of the node: a runtime-created account, a roster item, a
 * pending subscription request, an offline message, private XML (XEP-0049) and a vCard (XEP-0054) —
 * on one node through SQLite under DATA_DIR, and in cluster mode through Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';
import { clusterNodeConfig } from '../support/cluster-config';
import { TestRedis } from '../support/redis-server';

const ROSTER = 'jabber:iq:roster';
const USERS = 'alice:a,bob:b,carol:c';

const clients: BoshTestClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function login(node: RunningNode, user: string, password: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, password, 'restart');
  clients.push(client);
  return client;
}

/** Everything a restart must keep, written through the protocol. */
async function leaveEverything(node: RunningNode): Promise<void> {
  await node.accounts.create('dave', 'd-secret');
  const alice = await login(node, 'alice', 'a');
  const roster = await alice.iq(
    `<iq type='set' id='r1' xmlns='jabber:client'><query xmlns='${ROSTER}'><item jid='bob@localhost' name='Bob'><group>Friends</group></item></query></iq>`,
    'r1',
  );
  expect(roster.attrs.type).toBe('result');
  const stored = await alice.iq(
    `<iq type='set' id='p1' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='room@conference.localhost' name='Room'/></storage></query></iq>`,
    'p1',
  );
  expect(stored.attrs.type).toBe('result');
  const vcard = await alice.iq(`<iq type='set' id='v1' xmlns='jabber:client'><vCard xmlns='vcard-temp'><FN>Alice Example</FN></vCard></iq>`, 'v1');
  expect(vcard.attrs.type).toBe('result');
  alice.send(`<message to='bob@localhost' type='chat' id='m1' xmlns='jabber:client'><body>kept across the restart</body></message>`);
  alice.send(`<presence to='carol@localhost' type='subscribe' xmlns='jabber:client'/>`);
  // alice's stanzas are handled in order: once the ping is answered, the message is stored and the request pending.
  await alice.iq(`<iq type='get' id='after' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after');
  expect(await node.stores.offline.count('bob')).toBe(1);
  expect((await node.stores.rosters.pendingIn('carol')).map((p) => p.from)).toEqual(['alice@localhost']);
  await alice.terminate();
}

async function findEverything(node: RunningNode): Promise<void> {
  const alice = await login(node, 'alice', 'a');
  const roster = await alice.iq(`<iq type='get' id='r2' xmlns='jabber:client'><query xmlns='${ROSTER}'/></iq>`, 'r2');
  const items = roster.getChild('query', ROSTER)?.getChildren('item') ?? [];
  const bob = items.find((item) => item.attrs.jid === 'bob@localhost');
  expect(bob?.attrs.name).toBe('Bob');
  expect(bob?.getChildText('group')).toBe('Friends');
  expect(items.find((item) => item.attrs.jid === 'carol@localhost')?.attrs.ask).toBe('subscribe');
  const stored = await alice.iq(
    `<iq type='get' id='p2' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
    'p2',
  );
  expect(stored.getChild('query')?.getChild('storage')?.getChild('conference')?.attrs.jid).toBe('room@conference.localhost');
  const vcard = await alice.iq(`<iq type='get' id='v2' xmlns='jabber:client'><vCard xmlns='vcard-temp'/></iq>`, 'v2');
  expect(vcard.getChild('vCard')?.getChildText('FN')).toBe('Alice Example');

  const bobClient = await login(node, 'bob', 'b');
  bobClient.send(`<presence xmlns='jabber:client'/>`);
  const message = await bobClient.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'kept across the restart');
  expect(message.getChild('delay', 'urn:xmpp:delay')).toBeDefined();

  const carol = await login(node, 'carol', 'c');
  carol.send(`<presence xmlns='jabber:client'/>`);
  await carol.waitFor((e) => e.name === 'presence' && e.attrs.type === 'subscribe' && e.attrs.from === 'alice@localhost');

  const dave = await login(node, 'dave', 'd-secret');
  expect(dave.jid).toBe('dave@localhost/restart');
  // What was handed over is deleted once its client confirmed it (XEP-0124 §9.1: its next requests
  // show it has the response): a second login gets no second copy.
  await bobClient.iq(`<iq type='get' id='confirm' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'confirm');
  for (let i = 0; i < 100 && (await node.stores.offline.count('bob')) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await node.stores.offline.count('bob')).toBe(0);
}

describe('a single node restarted on the same DATA_DIR (SQLite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'restart-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the accounts, rosters, pending requests, offline messages, private XML and vCards it had', async () => {
    const start = (): Promise<RunningNode> => startNode(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', USERS, DATA_DIR: dir }));
    const first = await start();
    try {
      await leaveEverything(first);
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      await findEverything(second);
    } finally {
      await second.close();
    }
  });
});

describe('a cluster node restarted against the same Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('finds the accounts, rosters, pending requests, offline messages, private XML and vCards it had', async () => {
    const start = (): Promise<RunningNode> => startNode(clusterNodeConfig(redis.url, 'restarted', { USERS }));
    const first = await start();
    try {
      await leaveEverything(first);
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      await findEverything(second);
    } finally {
      await second.close();
    }
  });
});
