/**
 * XEP-0160 accounting in the embedded default (one node, SQLite under DATA_DIR) across a restart:
 * every message sent to a user who is offline is there after the node restarts, and is received
 * exactly once — none lost, none twice, in the order sent — and a later login gets no second copy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const COUNT = 40;
const clients: BoshTestClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function login(node: RunningNode, user: string, password: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, password, 'restart');
  clients.push(client);
  return client;
}

describe('offline messages across a restart of a single node on the same DATA_DIR (SQLite, XEP-0160)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'offline-restart-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (): Promise<RunningNode> =>
    startNode(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', USERS: 'alice:a,bob:b', DATA_DIR: dir }));

  it(`keeps ${COUNT} messages for an offline user and hands each over exactly once after the restart`, async () => {
    const ids = Array.from({ length: COUNT }, (_, i) => `offline-${i}`);
    const first = await start();
    try {
      const alice = await login(first, 'alice', 'a');
      for (const id of ids) alice.send(`<message to='bob@localhost' type='chat' id='${id}' xmlns='jabber:client'><body>${id}</body></message>`);
      // Handled in order: once the ping is answered every message is stored.
      await alice.iq(`<iq type='get' id='after' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after');
      expect(await first.stores.offline.count('bob')).toBe(COUNT);
      await alice.terminate();
    } finally {
      await first.close();
    }

    const second = await start();
    try {
      expect(await second.stores.offline.count('bob')).toBe(COUNT);
      const bob = await login(second, 'bob', 'b');
      bob.send(`<presence xmlns='jabber:client'/>`);
      await bob.waitFor((e) => e.name === 'message' && e.attrs.id === ids[COUNT - 1]);
      // Anything else in flight would come with the answer to a later request.
      await bob.iq(`<iq type='get' id='settle' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'settle');
      const received = bob.inbox.filter((e) => e.name === 'message').map((e) => String(e.attrs.id));
      expect(received).toEqual(ids);
      expect(bob.inbox.filter((e) => e.name === 'message').every((e) => e.getChild('delay', 'urn:xmpp:delay') !== undefined)).toBe(true);
      expect(await second.stores.offline.count('bob')).toBe(0);
      await bob.terminate();
    } finally {
      await second.close();
    }

    const third = await start();
    try {
      const bob = await login(third, 'bob', 'b');
      bob.send(`<presence xmlns='jabber:client'/>`);
      await bob.iq(`<iq type='get' id='again' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'again');
      expect(bob.inbox.filter((e) => e.name === 'message')).toEqual([]);
      expect(await third.stores.offline.count('bob')).toBe(0);
    } finally {
      await third.close();
    }
  });
});
