/**
 * Nothing taken off offline storage is lost before its client has it (XEP-0160 with XEP-0124 §9.1
 * receipts): messages handed over at login travel in a response the client never confirms (it goes
 * away: no later request shows it got that response); when the session ends (§10 inactivity) they
 * are routed again into offline storage, and the next login gets them, with the same stanza ids.
 */
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const clients: BoshTestClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function login(node: RunningNode, user: string, password: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, password, 'web');
  clients.push(client);
  return client;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('offline messages handed over to a session whose client never confirmed them (XEP-0160, XEP-0124 §9.1, §10)', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', USERS: 'alice:a,bob:b', STORAGE: 'memory', BOSH_INACTIVITY: '5' }),
    );
  });
  afterAll(async () => {
    await node.close();
  });

  it('go back to offline storage when the session ends, and the next login gets them with the same ids', async () => {
    const alice = await login(node, 'alice', 'a');
    alice.send(`<message to='bob@localhost' type='chat' id='kept-1' xmlns='jabber:client'><body>one</body></message>`);
    alice.send(`<message to='bob@localhost' type='chat' id='kept-2' xmlns='jabber:client'><body>two</body></message>`);
    await alice.iq(`<iq type='get' id='after' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after');
    expect(await node.stores.offline.count('bob')).toBe(2);

    const gone = await login(node, 'bob', 'b');
    gone.send(`<presence xmlns='jabber:client'/>`);
    await gone.waitFor((e) => e.name === 'message' && e.attrs.id === 'kept-2');
    expect(await node.stores.offline.count('bob')).toBe(0);
    // The client vanishes without another request: the server never learns it got that response.
    gone.destroy();
    await until(async () => (await node.stores.offline.count('bob')) === 2, 15_000);

    const back = await login(node, 'bob', 'b');
    back.send(`<presence xmlns='jabber:client'/>`);
    await back.waitFor((e) => e.name === 'message' && e.attrs.id === 'kept-2');
    expect(back.inbox.filter((e) => e.name === 'message').map((e) => e.attrs.id)).toEqual(['kept-1', 'kept-2']);
  }, 30_000);
});
