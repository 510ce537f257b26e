/**
 * End-to-end: StanzaJS 12 reads the message archive (XEP-0313) of a gateway node: two StanzaJS users
 * chat, the recipient's live messages carry XEP-0359 stanza-ids, and `searchHistory` pages through
 * the archive forward and backward and finds those ids.
 */
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { StanzaClient } from './support/stanza-client';

const BOUND_MS = 10_000;
let gateway: RunningGateway;
const clients: StanzaClient[] = [];

beforeAll(async () => {
  gateway = await startGateway();
});

afterAll(async () => {
  for (const client of clients) await client.stop().catch(() => undefined);
  await gateway?.close();
});

async function connect(user: string): Promise<StanzaClient> {
  const client = new StanzaClient(`${user} (StanzaJS)`, gateway.boshUrl, `${user}@${TEST_DOMAIN}`, TEST_PASSWORD);
  clients.push(client);
  await client.start();
  client.agent.sendPresence();
  return client;
}

describe('StanzaJS searchHistory against the gateway (XEP-0313)', () => {
  it('pages through a conversation both ways and finds the stanza-ids of the live messages', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const live: string[] = [];
    for (let i = 1; i <= 5; i++) {
      alice.agent.sendMessage({ to: `bob@${TEST_DOMAIN}`, type: 'chat', body: `archived ${i}` });
      const received = await bob.waitForChat(`archived ${i}`, BOUND_MS);
      const stanzaId = received.stanzaIds?.find((s) => s.by === `bob@${TEST_DOMAIN}`);
      expect(stanzaId?.id).toBeDefined();
      live.push(stanzaId?.id as string);
    }

    const first = await bob.agent.searchHistory({ with: `alice@${TEST_DOMAIN}`, paging: { max: 3 } });
    expect(first.results?.map((r) => r.item.message?.body)).toEqual(['archived 1', 'archived 2', 'archived 3']);
    expect(first.complete).toBeFalsy();
    const rest = await bob.agent.searchHistory({ with: `alice@${TEST_DOMAIN}`, paging: { max: 3, after: first.paging?.last } });
    expect(rest.results?.map((r) => r.item.message?.body)).toEqual(['archived 4', 'archived 5']);
    expect(rest.complete).toBe(true);
    expect([...(first.results ?? []), ...(rest.results ?? [])].map((r) => r.id)).toEqual(live);

    // The latest page first, as a client opening a conversation asks (XEP-0059 §2.5: an empty <before/>).
    const latest = await alice.agent.searchHistory({ paging: { max: 2, before: '' } });
    expect(latest.results?.map((r) => r.item.message?.body)).toEqual(['archived 4', 'archived 5']);
    expect(latest.results?.[0]?.item.delay?.timestamp).toBeInstanceOf(Date);
  });
});
