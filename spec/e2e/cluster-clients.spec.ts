/**
 * End-to-end: real clients other than Strophe.js through the cluster as deployed — nginx
 * (round-robin, no stickiness, `proxy_next_upstream off`) in front of three node processes and a
 * real redis-server (support/cluster.ts) — where a session's requests land on any node and are
 * forwarded to the node holding it (src/cluster/forwarder.ts).
 *
 *  1. StanzaJS 12 with a Strophe.js user: the scenarios stanza-node.spec.ts runs against one node.
 *  2. Two clients that keep one poll outstanding: the scenarios keep-a-poll-node.spec.ts runs
 *     against one node.
 *  3. The race: a stanza request and the next poll leave in the same instant and reach the owner
 *     by different ways, one forwarded by another node, one straight. Whichever arrives first, the
 *     owner processes them in rid order (XEP-0124 §14.2) and the session goes on.
 *
 * Every wait is on an event with a bound far below the BOSH wait (60 s here): a stall fails.
 * The per-session stanza rate limit is raised: the chats run as fast as round trips allow.
 *
 * Run: npx jest spec/e2e/cluster-clients.spec.ts (needs /usr/sbin/nginx and redis-server).
 */
import { chatInTurns, received, sequence } from './support/chat-rounds';
import { startCluster, type RunningCluster } from './support/cluster';
import { KeepAPollClient, type RequestKind } from './support/keep-a-poll-client';
import { describeKeepAPollChat, pairsSentTogether, transcript } from './support/keep-a-poll-scenarios';
import { describeStanzaJsOverBosh } from './support/stanza-scenarios';
import { destroyXhrAgents } from './support/strophe-client';

const DOMAIN = 'localhost';
const PASSWORD = 'secret';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((u) => `${u}:${PASSWORD}`).join(',');
const WAIT = 60;
/** Far below WAIT: a message held back until a held request times out misses it. */
const BOUND_MS = 5_000;
const RACE_ROUNDS = 150;

let cluster: RunningCluster;

beforeAll(async () => {
  cluster = await startCluster({ users: USERS, maxWaitSeconds: WAIT, extraEnv: { STANZAS_PER_SECOND: '1000', STANZA_BURST: '1000' } });
}, 60_000);

afterAll(async () => {
  destroyXhrAgents();
  const left = (await cluster?.stop()) ?? [];
  if (left.length > 0) throw new Error(`processes left after SIGKILL of their groups: ${JSON.stringify(left)}`);
}, 30_000);

const WHERE = 'through nginx in front of three nodes';

describeStanzaJsOverBosh(WHERE, {
  boshUrl: () => cluster.boshUrl,
  domain: DOMAIN,
  password: PASSWORD,
  stanzaUser: 'alice',
  stropheUser: 'bob',
  evidence: () => cluster.evidence(),
});

describeKeepAPollChat(WHERE, {
  url: () => cluster.boshUrl,
  domain: DOMAIN,
  password: PASSWORD,
  users: ['carol', 'dave'],
  wait: WAIT,
  turns: 120,
  evidence: () => cluster.evidence(),
});

describe('a stanza request and the next poll sent in the same instant, reaching the owner by different ways (XEP-0124 §14.2)', () => {
  const clients: KeepAPollClient[] = [];

  afterAll(async () => {
    for (const client of clients) await client.terminate();
  });

  /**
   * Two keep-a-poll clients whose logins and `direct` requests go straight to the node that
   * holds their sessions (node a: it took the session creation) while `forwarded` requests go to
   * node b, which forwards them. They chat in turns: every reply leaves as a stanza request and
   * the next poll in the same tick, one through each node.
   */
  async function raceRounds(forwarded: RequestKind, tag: string): Promise<void> {
    const [owner, other] = cluster.nodes.map((n) => `${n.url}/http-bind`) as [string, string];
    const route = (kind: RequestKind): string => (kind === forwarded ? other : owner);
    const a = new KeepAPollClient({ label: `erin (${tag})`, url: route, wait: WAIT });
    const b = new KeepAPollClient({ label: `frank (${tag})`, url: route, wait: WAIT });
    clients.push(a, b);
    await a.login('erin', DOMAIN, PASSWORD, tag);
    await b.login('frank', DOMAIN, PASSWORD, tag);
    try {
      await chatInTurns(a, b, RACE_ROUNDS, BOUND_MS, tag);
      expect([...a.terminals, ...b.terminals]).toEqual([]);
      expect(received(b, a, tag)).toEqual(sequence(`${tag} a`, RACE_ROUNDS));
      expect(received(a, b, tag)).toEqual(sequence(`${tag} b`, RACE_ROUNDS));
      // The race was run: in most rounds the two requests left together (in the others the message
      // came back on the stanza request's answer, and the poll still out was enough).
      expect(pairsSentTogether(b.wire)).toBeGreaterThanOrEqual(RACE_ROUNDS * 0.8);
      if (process.env.E2E_VERBOSE) console.log(`${tag}\n${transcript(b)}\nresends: ${JSON.stringify([...a.resends, ...b.resends])}`);
    } catch (err) {
      const e = err as Error;
      e.message = `${e.message}\n\n${a.dump()}\n\n${b.dump()}\n\n${cluster.evidence()}`;
      throw e;
    } finally {
      await a.terminate();
      await b.terminate();
    }
  }

  it(`stanza requests forwarded by another node, polls straight to the owner: ${RACE_ROUNDS} rounds, no terminal answer, every message once and in order`, async () => {
    await raceRounds('stanza', 'stanza-forwarded');
  }, 90_000);

  it(`polls forwarded by another node, stanza requests straight to the owner: ${RACE_ROUNDS} rounds, no terminal answer, every message once and in order`, async () => {
    await raceRounds('poll', 'poll-forwarded');
  }, 90_000);
});
