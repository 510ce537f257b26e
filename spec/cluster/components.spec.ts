import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { BoshTestClient } from '../support/bosh-client';
import { clusterNodeConfig } from '../support/cluster-config';
import { EchoComponent } from '../support/echo-component';
import { TestRedis } from '../support/redis-server';

const ECHO = 'echo.localhost';
let redis: TestRedis;
let n1: RunningNode;
let n2: RunningNode;
const echoes = new Map<string, EchoComponent>();
const clients: BoshTestClient[] = [];

function nodeConfig(id: string) {
  // The echo is the only component here (the MUC service would be listed in disco#items too).
  return clusterNodeConfig(redis.url, id, { USERS: 'alice:a,bob:b', MUC_ENABLED: 'false' });
}

/** A node with the echo component registered, as every node of a cluster registers the same components. */
async function nodeWithEcho(id: string): Promise<RunningNode> {
  const node = await startNode(nodeConfig(id));
  const echo = new EchoComponent(ECHO, id);
  node.components.register(echo);
  echoes.set(id, echo);
  return node;
}

async function login(url: string, user: string, resource: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(url, user, user[0] as string, resource);
  clients.push(client);
  return client;
}

const body = (text: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === text;

beforeAll(async () => {
  redis = await TestRedis.start();
  n1 = await nodeWithEcho('n1');
  n2 = await nodeWithEcho('n2');
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await n1.close();
  await n2.close();
  await redis.stop();
});

describe('cluster: a component registered on every node', () => {
  it('answers a user on the second node from that node, and the answer reaches the user', async () => {
    const bob = await login(n2.boshUrl, 'bob', 'b2');
    bob.send(`<message to='${ECHO}' type='chat' xmlns='jabber:client'><body>ping</body></message>`);
    const answer = await bob.waitFor(body('echo: ping (n2)'));
    expect(answer.attrs.from).toBe(ECHO);
    expect(echoes.get('n1')?.handled).toEqual([]);
    await bob.terminate();
  });

  it('reaches a user bound on another node when the component sends to them, over the bus', async () => {
    const alice = await login(n1.boshUrl, 'alice', 'a1');
    alice.send(`<presence xmlns='jabber:client'/>`);
    // Stanzas of a session are handled in order: once the ping is answered, alice is available.
    await alice.iq(`<iq type='get' id='after-presence' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after-presence');
    const routed: { recipients: readonly string[]; remote: boolean }[] = [];
    const off = n2.events.on('messageRouted', (event) => void routed.push(event));
    await echoes.get('n2')?.announce('alice@localhost', 'from the component on n2');
    const note = await alice.waitFor(body('from the component on n2'));
    expect(note.attrs.from).toBe(ECHO);
    off();
    expect(routed).toEqual([expect.objectContaining({ recipients: [alice.jid], remote: true })]);
    await alice.terminate();
  });

  it('lists the component in disco#items on either node', async () => {
    const alice = await login(n1.boshUrl, 'alice', 'd1');
    const items = await alice.iq(
      `<iq type='get' id='items' to='localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`,
      'items',
    );
    expect(
      items
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual([ECHO]);
    await alice.terminate();
  });
});
