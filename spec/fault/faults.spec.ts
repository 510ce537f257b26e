/**
 * Delivery through faults, as an operator runs the cluster: three node processes behind nginx
 * round-robin, redis-server with AOF, 30 pairs of BOSH clients writing to each other's bare JID at
 * 8 messages/s per pair for 20 s, one fault at second 8, clients logging in again when their session
 * ends (support/fault-run.ts; `npm run faults` runs the same cases and prints the table).
 * Every message the server accepted is accounted for: delivered live or at the next login, bounced
 * to its sender, or lost. No timing is asserted here (waits are in the table of docs/deployment.md).
 */
import { DEFAULT_RUN, runFaultCase, type Fault, type FaultRunResult } from './support/fault-run';

const CASES: ReadonlyArray<readonly [Fault, string]> = [
  ['none', 'no fault'],
  ['sigterm', 'SIGTERM of one node (graceful)'],
  ['sigkill', 'SIGKILL of the busiest node'],
  ['redis-restart', 'a Redis restart (~1 s down, AOF)'],
  ['sigstop', 'a node frozen (SIGSTOP) past the node TTL, then resumed'],
];

/** The accounting a test compares, with the notes (lost ids, sessions) when it fails. */
function accounting(result: FaultRunResult) {
  return {
    lost: result.lost,
    twiceUnder1Percent: result.twice < result.accepted * 0.01,
    bouncedUnder1Percent: result.bounced < result.accepted * 0.01,
    allAcceptedAccounted: result.delivered + result.bounced + result.lost === result.accepted,
    notes: result.lost > 0 || result.twice >= result.accepted * 0.01 ? result.notes : [],
  };
}

describe('delivery through faults: three nodes, nginx, Redis with AOF, 4,800 messages, one fault at second 8', () => {
  it.each(CASES)(
    '%s (%s): no accepted message lost; duplicates and bounces each under 1 %',
    async (fault) => {
      const result = await runFaultCase(fault, DEFAULT_RUN);
      expect(result.accepted).toBeGreaterThan(result.sent * 0.9);
      expect(accounting(result)).toEqual({ lost: 0, twiceUnder1Percent: true, bouncedUnder1Percent: true, allAcceptedAccounted: true, notes: [] });
      // The fault did happen: SIGTERM ends the stopped node's sessions, and their clients log in again.
      if (fault === 'sigterm' || fault === 'sigkill') expect(result.relogins).toBeGreaterThan(0);
    },
    180_000,
  );
});
