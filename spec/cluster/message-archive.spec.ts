import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { seqOfArchiveId } from '../../src/store/archive-ids';
import { BoshTestClient } from '../support/bosh-client';
import { clusterNodeConfig } from '../support/cluster-config';
import { TestRedis } from '../support/redis-server';

const MAM = 'urn:xmpp:mam:2';
const SID = 'urn:xmpp:sid:0';
let redis: TestRedis;
let n1: RunningNode;
let n2: RunningNode;
const clients: BoshTestClient[] = [];

function nodeConfig(id: string) {
  return clusterNodeConfig(redis.url, id, { USERS: 'alice:a,bob:b' });
}

beforeAll(async () => {
  redis = await TestRedis.start();
  n1 = await startNode(nodeConfig('m1'));
  n2 = await startNode(nodeConfig('m2'));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await n1.close();
  await n2.close();
  await redis.stop();
});

async function login(node: RunningNode, user: string, resource: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, user[0] as string, resource);
  clients.push(client);
  client.send(`<presence xmlns='jabber:client'/>`);
  return client;
}

/** The archive ids of a client's own archive, oldest first, from one MAM query. */
async function archiveIds(client: BoshTestClient, id: string): Promise<string[]> {
  const iq = await client.iq(
    `<iq type='set' id='${id}' xmlns='jabber:client'><query xmlns='${MAM}' queryid='${id}'><set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set></query></iq>`,
    id,
  );
  expect(iq.getChild('fin', MAM)?.attrs.complete).toBe('true');
  return client.inbox
    .filter((e) => e.name === 'message' && e.getChild('result', MAM)?.attrs.queryid === id)
    .map((e) => String(e.getChild('result', MAM)?.attrs.id));
}

const chat = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;

describe('cluster: the archive and its sequence numbers are shared by every node (Redis)', () => {
  it('numbers a conversation once across nodes: both users’ archives, read on either node, hold the same ids in the same order, without gaps', async () => {
    const alice = await login(n1, 'alice', 'on-n1');
    const bob = await login(n2, 'bob', 'on-n2');
    // Both write at once, each from its own node, into the one conversation.
    const send = async (from: BoshTestClient, to: BoshTestClient, toBare: string, prefix: string): Promise<string[]> => {
      const stamped: string[] = [];
      for (let i = 0; i < 10; i++) {
        from.send(`<message to='${toBare}' type='chat' xmlns='jabber:client'><body>${prefix}${i}</body></message>`);
        const received = await to.waitFor(chat(`${prefix}${i}`), 10_000);
        stamped.push(String(received.getChild('stanza-id', SID)?.attrs.id));
      }
      return stamped;
    };
    const [toBob, toAlice] = await Promise.all([send(alice, bob, 'bob@localhost', 'a'), send(bob, alice, 'alice@localhost', 'b')]);
    const alices = await archiveIds(alice, 'alice-archive');
    const bobs = await archiveIds(bob, 'bob-archive');
    expect(alices).toEqual(bobs);
    expect(alices.map((id) => seqOfArchiveId(id))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The live stanza-ids are those archive ids, each message's own.
    expect([...toBob, ...toAlice].sort()).toEqual([...alices].sort());
    await alice.terminate();
    await bob.terminate();
  });
});
