import type Redis from 'ioredis';
import { RedisKeys } from '../../src/cluster/keys';
import { createRedis, whenReady } from '../../src/redis/redis-client';
import { RedisFailureCounters } from '../../src/cluster/redis-failure-counters';
import { AuthThrottle, type AttemptOutcome } from '../../src/limits/auth-throttle';
import { MemoryFailureCounters } from '../../src/limits/failure-counters';
import { createLogger } from '../../src/observability/logger';
import { FakeScheduler } from '../support/fake-scheduler';
import { TestRedis } from '../support/redis-server';

const TTL_MS = 60_000;
const keys = new RedisKeys('t:');
const logger = createLogger('silent');

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await TestRedis.start();
  // The node's own client: fails fast while Redis is down (no offline queue).
  redis = createRedis({ url: server.url }, 'spec', logger);
  await whenReady(redis, 10_000);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** One node's counters: the shared Redis plus a local copy of its own. */
function node(): RedisFailureCounters {
  return new RedisFailureCounters(redis, keys, TTL_MS, new MemoryFailureCounters(TTL_MS), logger);
}

describe('RedisFailureCounters share failed-login counts between the nodes of a cluster', () => {
  it('counts failures from every node under one key', async () => {
    const [a, b] = [node(), node()];
    expect(await a.increment(['pair:alice@192.0.2.1', 'account:alice'])).toEqual([1, 1]);
    expect(await b.increment(['pair:alice@192.0.2.1', 'account:alice'])).toEqual([2, 2]);
    expect(await b.increment(['pair:alice@198.51.100.1', 'account:alice'])).toEqual([1, 3]);
    expect(await redis.get(keys.authFailures('account:alice'))).toBe('3');
  });

  it('gives every count its expiry in the same transaction', async () => {
    await node().increment(['account:expiring']);
    const ttl = await redis.pttl(keys.authFailures('account:expiring'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL_MS);
  });

  it('clears a key for every node', async () => {
    const [a, b] = [node(), node()];
    await a.increment(['pair:bob@192.0.2.1']);
    await b.clear('pair:bob@192.0.2.1');
    expect(await redis.exists(keys.authFailures('pair:bob@192.0.2.1'))).toBe(0);
    expect(await a.increment(['pair:bob@192.0.2.1'])).toEqual([1]);
  });

  it('makes a throttle on one node slow down failures counted on another', async () => {
    const scheduler = new FakeScheduler();
    const settings = { delayMs: 100, delayMaxMs: 10_000, accountDelayMaxMs: 10_000, pendingPerPair: 2, pendingPerAddress: 64 };
    const delays: number[] = [];
    const observer = { failureDelayed: (_scope: string, seconds: number) => delays.push(seconds), attemptTurnedAway: () => undefined };
    const [first, second] = [new AuthThrottle(settings, node(), scheduler, observer), new AuthThrottle(settings, node(), scheduler, observer)];
    const fail = async (throttle: AuthThrottle): Promise<AttemptOutcome> => {
      let outcome: AttemptOutcome | undefined;
      void throttle.attempt('carol', '192.0.2.7', () => false).then((o) => (outcome = o));
      while (outcome === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        scheduler.advance(100);
      }
      return outcome;
    };
    expect([await fail(first), await fail(first), await fail(second)]).toEqual(['refused', 'refused', 'refused']);
    // The third failure, on the other node, is the pair's third: 100 ms doubled twice.
    expect(delays).toEqual([0.1, 0.2, 0.4]);
  });
});

describe('RedisFailureCounters while Redis is down', () => {
  it('answers from this node’s own counts instead of failing the login, and shares again once Redis is back', async () => {
    const counters = node();
    expect(await counters.increment(['account:dave'])).toEqual([1]);
    await server.stop();
    await expect(counters.increment(['account:dave'])).resolves.toEqual([2]);
    await expect(counters.increment(['account:dave'])).resolves.toEqual([3]);
    await expect(counters.clear('pair:dave@192.0.2.1')).resolves.toBeUndefined();
    await server.start();
    await whenReady(redis, 10_000);
    // Redis restarted empty: the shared count starts over, and is what answers again.
    expect(await counters.increment(['account:dave'])).toEqual([1]);
    expect(await node().increment(['account:dave'])).toEqual([2]);
  });
});
