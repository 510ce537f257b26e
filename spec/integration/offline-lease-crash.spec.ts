/**
 * XEP-0160 at least once across a crash: a node that hands stored messages to a client and is
 * SIGKILLed before the client confirmed them (XEP-0124 §9.1) cannot route them again itself. They
 * were only leased, not deleted, so once the lease (OFFLINE_LEASE_SECONDS) runs out the next login,
 * on a node started again on the same DATA_DIR, gets them: the same stanzas, the same message ids
 * and XEP-0359 stanza-ids, so a client that did get the first copy can drop the repeat.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { GroupProcess } from '../e2e/support/process-group';
import { rawRequest } from '../e2e/support/raw-http';
import { BoshTestClient } from '../support/bosh-client';
import { freePort } from '../support/redis-server';

const REPO = resolve(__dirname, '..', '..');
const LEASE_SECONDS = 2;
const USERS = 'alice:a,bob:b';

const clients: BoshTestClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function login(url: string, user: string, password: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(url, user, password, 'web');
  clients.push(client);
  return client;
}

/** The gateway as its own process on `dir`, so that it can be killed outright. */
async function startProcess(dir: string, port: number): Promise<GroupProcess> {
  const child = GroupProcess.spawn(`node :${port}`, process.execPath, ['-r', './scripts/register-ts.js', 'src/main.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      USERS,
      LOG_LEVEL: 'info',
      WEB_CLIENT: 'false',
      OFFLINE_LEASE_SECONDS: String(LEASE_SECONDS),
      // Only the client's own next request confirms, never an early answer to prompt it.
      BOSH_CONFIRMATION_PROMPT_MS: '3600000',
    },
    logFile: join(dir, 'node.log'),
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.hasExited) throw new Error(`the node did not start\n${child.tail()}`);
    if (Date.now() > deadline) {
      await child.killGroup();
      throw new Error(`the node was not ready in time\n${child.tail()}`);
    }
    const ready = await rawRequest(`http://127.0.0.1:${port}/healthz`, 'GET', undefined, {}, 1_000).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const messages = (client: BoshTestClient): Element[] => client.inbox.filter((e) => e.name === 'message');
const identity = (message: Element): [unknown, unknown] => [message.attrs.id, message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id];

describe('offline messages handed over by a node killed before its client confirmed them (XEP-0160, XEP-0124 §9.1)', () => {
  let dir: string;
  let child: GroupProcess | undefined;
  let node: RunningNode | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'offline-lease-crash-'));
  });
  afterAll(async () => {
    await child?.killGroup();
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are handed over again, with the same ids, at a login after the lease ran out', async () => {
    const port = await freePort();
    child = await startProcess(dir, port);
    const url = `http://127.0.0.1:${port}/http-bind`;
    const alice = await login(url, 'alice', 'a');
    for (const id of ['crash-1', 'crash-2'])
      alice.send(`<message to='bob@localhost' type='chat' id='${id}' xmlns='jabber:client'><body>${id}</body></message>`);
    await alice.iq(`<iq type='get' id='after' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after');
    await alice.terminate();

    const bob = await login(url, 'bob', 'b');
    const leasedBefore = Date.now();
    bob.send(`<presence xmlns='jabber:client'/>`);
    await bob.waitFor((e) => e.name === 'message' && e.attrs.id === 'crash-2');
    const first = messages(bob);
    // Killed with the response delivered and not yet confirmed: no session end, nothing routed again.
    await child.killGroup();
    bob.destroy();

    node = await startNode(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', USERS, DATA_DIR: dir }));
    expect(await node.stores.offline.count('bob')).toBe(2);
    // The lease taken at that login has run out by then.
    await new Promise((r) => setTimeout(r, Math.max(0, leasedBefore + LEASE_SECONDS * 1000 + 100 - Date.now())));
    const back = await login(node.boshUrl, 'bob', 'b');
    back.send(`<presence xmlns='jabber:client'/>`);
    await back.waitFor((e) => e.name === 'message' && e.attrs.id === 'crash-2');
    expect(messages(back).map((e) => e.attrs.id)).toEqual(['crash-1', 'crash-2']);
    expect(messages(back).map(identity)).toEqual(first.map(identity));
    expect(messages(back).every((e) => typeof identity(e)[1] === 'string')).toBe(true);

    // Confirmed this time (§9.1: the requests after the response): deleted.
    await back.iq(`<iq type='get' id='confirm' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'confirm');
    const running = node;
    for (let i = 0; i < 100 && (await running.stores.offline.count('bob')) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await running.stores.offline.count('bob')).toBe(0);
  }, 60_000);
});
