/**
 * Two keep-a-poll clients (./keep-a-poll-client.ts) chatting, as one `describe` that runs against
 * one node (spec/e2e/keep-a-poll-node.spec.ts) and through nginx in front of the cluster
 * (spec/e2e/cluster-clients.spec.ts).
 *
 * The pattern on the wire, with hold=1 and requests=2 (XEP-0124 §8, §11): poll A is held; the
 * client posts B with a message, the server answers A at once and keeps B; the client re-polls with
 * C in the same tick, and C makes the server answer B. A reply written the instant a message is
 * read leaves as a stanza request and the next poll together. None of it may end the session.
 */
import { chatInBurst, chatInTurns, received, sequence } from './chat-rounds';
import { formatWireEvent, KeepAPollClient, type RequestKind, type WireEvent } from './keep-a-poll-client';

export interface KeepAPollScenarioSetup {
  /** Where each request goes (read when the suite starts). */
  url(): string | ((kind: RequestKind, rid: number) => string);
  readonly domain: string;
  readonly password: string;
  /** Two accounts no other suite in the file touches. */
  readonly users: readonly [string, string];
  /** The `wait` the clients ask for: long, so a stall is caught by the bound, not by the wait. */
  readonly wait: number;
  /** Turns each way in the long chat. */
  readonly turns: number;
  evidence?(): string;
}

/** Far below `wait`: a message held back until a held request times out misses it. */
const BOUND_MS = 5_000;

export function describeKeepAPollChat(where: string, setup: KeepAPollScenarioSetup): void {
  describe(`a client that keeps one poll outstanding ${where}`, () => {
    let a: KeepAPollClient;
    let b: KeepAPollClient;

    async function withEvidence(fn: () => Promise<void>): Promise<void> {
      try {
        await fn();
      } catch (err) {
        const e = err as Error;
        e.message = `${e.message}\n\n${a?.dump() ?? ''}\n\n${b?.dump() ?? ''}\n\n${setup.evidence?.() ?? ''}`;
        throw e;
      }
    }

    beforeAll(async () => {
      const [userA, userB] = setup.users;
      a = new KeepAPollClient({ label: userA, url: setup.url(), wait: setup.wait });
      b = new KeepAPollClient({ label: userB, url: setup.url(), wait: setup.wait });
      await a.login(userA, setup.domain, setup.password, 'keep-a-poll');
      await b.login(userB, setup.domain, setup.password, 'keep-a-poll');
    }, 30_000);

    afterAll(async () => {
      await a?.terminate();
      await b?.terminate();
      if (process.env.E2E_VERBOSE) console.log(`${where}: the wire pattern\n${transcript(a)}`);
    });

    it('is granted hold=1 and requests=2 (XEP-0124 §7.2) with the long wait it asked for', () => {
      expect(a.granted).toEqual({ wait: setup.wait, hold: 1, requests: 2 });
    });

    it(`chats in turns, ${setup.turns} messages each way, each reply leaving with the next poll: no terminal answer, each message once and in order`, async () => {
      await withEvidence(async () => {
        await chatInTurns(a, b, setup.turns, BOUND_MS, 'turn');
        expect(received(b, a, 'turn')).toEqual(sequence('turn a', setup.turns));
        expect(received(a, b, 'turn')).toEqual(sequence('turn b', setup.turns));
        expect([...a.terminals, ...b.terminals]).toEqual([]);
        // The pattern happened: most replies left as a stanza request and the next poll in one tick
        // (the others came back on a stanza request's answer, with a poll still out).
        expect(pairsSentTogether(b.wire)).toBeGreaterThanOrEqual(setup.turns * 0.8);
      });
    }, 120_000);

    it('sends bursts both ways, each message in the request next to the poll: all arrive, once and in order', async () => {
      await withEvidence(async () => {
        await chatInBurst(a, b, 40, BOUND_MS, 'burst a');
        await chatInBurst(b, a, 40, BOUND_MS, 'burst b');
        expect(received(b, a, 'burst a')).toEqual(sequence('burst a', 40));
        expect(received(a, b, 'burst b')).toEqual(sequence('burst b', 40));
        expect([...a.terminals, ...b.terminals]).toEqual([]);
      });
    }, 60_000);
  });
}

/** How often a stanza request and a poll left in the same tick (adjacent sends, nothing answered between). */
export function pairsSentTogether(wire: readonly WireEvent[]): number {
  let pairs = 0;
  for (let i = 1; i < wire.length; i++) {
    const [before, after] = [wire[i - 1] as WireEvent, wire[i] as WireEvent];
    if (before.direction === 'sent' && before.kind === 'stanza' && after.direction === 'sent' && after.kind === 'poll' && after.rid === before.rid + 1) pairs++;
  }
  return pairs;
}

/** A short excerpt of the wire from the first stanza request on, for the record. */
export function transcript(client: KeepAPollClient, lines = 16): string {
  const start = Math.max(0, client.wire.findIndex((e) => e.kind === 'stanza') - 2);
  return [`--- ${client.label}: requests and answers ---`, ...client.wire.slice(start, start + lines).map(formatWireEvent)].join('\n');
}
