/**
 * End-to-end: StanzaJS (npm `stanza`, its Node build: BOSH over the global
 * fetch()) against a gateway node started in-process with startNode(). It
 * backs the StanzaJS section of docs/clients.md: the configuration shown there
 * (`transports: { websocket: false, bosh: <url> }`) logs in, binds, chats
 * with a Strophe.js client, reads the roster and ends the BOSH session.
 */
import * as XMPP from 'stanza';
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { StropheClient, destroyXhrAgents, bodyOf } from './support/strophe-client';

const ALICE = `alice@${TEST_DOMAIN}`;
const BOB = `bob@${TEST_DOMAIN}`;

let gateway: RunningGateway;
let bob: StropheClient;
let alice: XMPP.Agent | undefined;
const raw: string[] = [];

function waitFor<T>(what: string, register: (done: (value: T) => void) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${raw.slice(-20).join('\n')}`)),
      timeoutMs,
    );
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

beforeAll(async () => {
  gateway = await startGateway();
  bob = new StropheClient('bob (Strophe.js)', gateway.boshUrl);
  await bob.login(BOB, TEST_PASSWORD);
  await bob.becomeAvailable();
});

afterAll(async () => {
  if (alice?.sessionStarted) {
    const ended = waitFor('stanza disconnect', (done) => alice!.once('disconnected', () => done(undefined)), 5_000);
    void alice.disconnect();
    await ended.catch(() => undefined);
  }
  await bob?.close();
  destroyXhrAgents();
  await gateway?.close();
});

describe('StanzaJS 12 (Node, BOSH) against the gateway', () => {
  it('logs in over BOSH with transports: { websocket: false, bosh: url }', async () => {
    alice = XMPP.createClient({
      jid: ALICE,
      password: TEST_PASSWORD,
      transports: { websocket: false, bosh: gateway.boshUrl },
    });
    alice.on('raw:outgoing', (data: string) => raw.push(`SENT ${data}`));
    alice.on('raw:incoming', (data: string) => raw.push(`RECV ${data}`));
    const started = waitFor<string>('session:started', (done) => alice!.once('session:started', () => done(alice!.jid)));
    alice.connect();
    const jid = await started;
    expect(jid).toMatch(new RegExp(`^${ALICE}/.+`));

    // The session request StanzaJS made: XEP-0124 §7 attributes it chose itself.
    const create = raw.find((l) => l.startsWith('SENT '))!;
    expect(create).toMatch(/\bwait="30"/);
    expect(create).toMatch(/\bhold="2"/);
    const granted = raw.find((l) => l.startsWith('RECV '))!;
    expect(granted).toMatch(/\bsid=["'][^"']+["']/);
    expect(granted).toMatch(/\bwait=["']30["']/);
    expect(granted).toMatch(/\bhold=["']2["']/);
    expect(granted).toMatch(/\brequests=["']3["']/);
  });

  it('exchanges chats with a Strophe.js client and reads its roster', async () => {
    await alice!.sendPresence();
    // One stream's stanzas are handled in order (RFC 6120 §10.1): once the ping is answered,
    // alice's initial presence has been processed and a chat to her bare JID reaches her.
    await alice!.ping(TEST_DOMAIN);

    const incoming = waitFor<XMPP.Stanzas.ReceivedMessage>('a chat from bob', (done) =>
      alice!.on('chat', (m) => {
        if (m.body === 'hi stanza') done(m);
      }),
    );
    bob.sendChat(ALICE, 'hi stanza');
    const m = await incoming;
    expect(m.from).toMatch(new RegExp(`^${BOB}/`));

    alice!.sendMessage({ to: BOB, type: 'chat', body: 'hi strophe' });
    const reply = await bob.waitForChat('hi strophe', 10_000);
    expect(reply.getAttribute('from')).toBe(alice!.jid);
    expect(bodyOf(reply)).toBe('hi strophe');

    const roster = await alice!.getRoster();
    expect(roster.items).toEqual([]);
  });

  it('disconnect() ends the BOSH session with type="terminate" (XEP-0124 §13)', async () => {
    const ended = waitFor('disconnected', (done) => alice!.once('disconnected', () => done(undefined)));
    void alice!.disconnect();
    await ended;
    expect(raw.some((l) => l.startsWith('SENT ') && /\btype="terminate"/.test(l))).toBe(true);
    alice = undefined;
  });
});
