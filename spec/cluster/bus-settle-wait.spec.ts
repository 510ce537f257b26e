import Redis from 'ioredis';
import type { Settled } from '../../src/base/stream';
import { RedisKeys } from '../../src/cluster/keys';
import { RedisBus } from '../../src/cluster/redis-bus';
import { createLogger } from '../../src/observability/logger';
import { TestRedis } from '../support/redis-server';

let server: TestRedis;
let redis: Redis;
const keys = new RedisKeys('settle:');

beforeAll(async () => {
  server = await TestRedis.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/**
 * A stopping node waits BUS_SETTLE_WAIT_MS at most for the clients of its sessions to confirm what it
 * handed them (XEP-0124 §9): an entry confirmed in that time leaves its stream, one that is not stays
 * there to be routed again.
 */
describe('RedisBus stop: waiting for handed-over entries to settle', () => {
  async function ownerHolding(node: string, settleWaitMs: number): Promise<{ bus: RedisBus; settled: Settled }> {
    const alive = async (): Promise<boolean> => true;
    const logger = createLogger('silent');
    const bus = new RedisBus(redis, new Redis(server.url, { maxRetriesPerRequest: null }), keys, node, alive, logger, undefined, settleWaitMs);
    let settled: Settled | undefined;
    bus.start(async (_message, claim) => {
      // Handed to a session whose client has not confirmed it yet.
      settled = claim();
    });
    await bus.send(node, { kind: 'deliver', to: 'a@d/r', stanza: '<m/>', hops: 1 });
    for (let i = 0; i < 100 && !settled; i++) await new Promise((r) => setTimeout(r, 20));
    if (!settled) throw new Error('the entry was never read');
    return { bus, settled };
  }

  it('leaves an unconfirmed entry in the stream once the wait is over', async () => {
    const { bus } = await ownerHolding('unconfirmed', 100);
    expect(bus.unsettledCount).toBe(1);
    await bus.stop();
    expect(await redis.xlen(keys.bus('unconfirmed'))).toBe(1);
  });

  it('removes an entry whose client confirms while the node waits', async () => {
    const { bus, settled } = await ownerHolding('confirmed', 60_000);
    const stopping = bus.stop();
    setTimeout(settled, 100);
    await stopping;
    expect(await redis.xlen(keys.bus('confirmed'))).toBe(0);
  });
});
