/**
 * Nothing handed over from offline storage is deleted before its client has it (XEP-0160 with
 * XEP-0124 §9.1 receipts): messages handed over at login are leased, and deleted only once a later
 * request of the client shows it got the response carrying them. A client that goes away first (no
 * later request) leaves them stored: when its session ends (§10 inactivity) they are handed back,
 * and the next login gets them again, the same stanzas with the same ids.
 */
import type { Element } from 'ltx';
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

/** What a client can drop a repeat by: the message id and the XEP-0359 stanza-id of the recipient's archive. */
const identity = (message: Element): [unknown, unknown] => [message.attrs.id, message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id];

describe('offline messages handed over at login (XEP-0160, XEP-0124 §9.1, §10)', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        WEB_CLIENT: 'false',
        USERS: 'alice:a,bob:b,carol:c',
        STORAGE: 'memory',
        BOSH_INACTIVITY: '5',
        // No early answer to prompt a confirmation: only the client's own next request confirms.
        BOSH_CONFIRMATION_PROMPT_MS: '3600000',
      }),
    );
  });
  afterAll(async () => {
    await node.close();
  });

  async function store(to: string, ids: readonly string[]): Promise<void> {
    const alice = await login(node, 'alice', 'a');
    for (const id of ids) alice.send(`<message to='${to}@localhost' type='chat' id='${id}' xmlns='jabber:client'><body>${id}</body></message>`);
    // Handled in order: once the ping is answered every message is stored.
    await alice.iq(`<iq type='get' id='after' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after');
    expect(await node.stores.offline.count(to)).toBe(ids.length);
    await alice.terminate();
  }

  it('stay stored while the client has not confirmed them; when it goes away, the next login gets them again with the same ids', async () => {
    await store('bob', ['kept-1', 'kept-2']);
    const gone = await login(node, 'bob', 'b');
    gone.send(`<presence xmlns='jabber:client'/>`);
    await gone.waitFor((e) => e.name === 'message' && e.attrs.id === 'kept-2');
    const first = gone.inbox.filter((e) => e.name === 'message');
    // Leased, not deleted: the server does not know the client has them yet.
    expect(await node.stores.offline.count('bob')).toBe(2);
    let ended = false;
    node.events.on('sessionEnded', (event) => {
      if (event.jid === 'bob@localhost/web') ended = true;
    });
    // The client vanishes without another request: the server never learns it got that response.
    gone.destroy();
    await until(async () => ended, 15_000);
    await node.xmpp.settle();
    // Handed back, not stored a second time.
    expect(await node.stores.offline.count('bob')).toBe(2);

    const back = await login(node, 'bob', 'b');
    back.send(`<presence xmlns='jabber:client'/>`);
    await back.waitFor((e) => e.name === 'message' && e.attrs.id === 'kept-2');
    const again = back.inbox.filter((e) => e.name === 'message');
    expect(again.map(identity)).toEqual(first.map(identity));
    expect(again.map((e) => e.attrs.id)).toEqual(['kept-1', 'kept-2']);
    expect(again.every((e) => typeof identity(e)[1] === 'string')).toBe(true);
  }, 30_000);

  it('are deleted once the client confirmed them, and a later login gets nothing', async () => {
    await store('carol', ['once-1', 'once-2']);
    const carol = await login(node, 'carol', 'c');
    carol.send(`<presence xmlns='jabber:client'/>`);
    await carol.waitFor((e) => e.name === 'message' && e.attrs.id === 'once-2');
    // The requests after the response that carried them confirm it (§9.1: rid R confirms up to R - requests).
    await carol.iq(`<iq type='get' id='confirm' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'confirm');
    await until(async () => (await node.stores.offline.count('carol')) === 0, 10_000);
    await carol.terminate();

    const later = await login(node, 'carol', 'c');
    later.send(`<presence xmlns='jabber:client'/>`);
    await later.iq(`<iq type='get' id='later' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'later');
    expect(later.inbox.filter((e) => e.name === 'message')).toEqual([]);
    expect(await node.stores.offline.count('carol')).toBe(0);
  }, 30_000);
});
