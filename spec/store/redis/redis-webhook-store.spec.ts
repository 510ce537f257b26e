import Redis from 'ioredis';
import { redisWebhookStores } from '../../../src/store/redis/redis-webhook-store';
import { TestRedis } from '../../support/redis-server';
import { webhookStoreContract } from '../contract/webhook-store.contract';

let server: TestRedis;
beforeAll(async () => {
  server = await TestRedis.start();
});
afterAll(async () => {
  await server.stop();
});

let count = 0;
webhookStoreContract({
  name: 'redis',
  fresh: async (maxDeadLetters) => {
    // Each test's data under a prefix of its own. Nothing is claimed from another consumer here: one
    // consumer, and an idle time no test reaches.
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    return {
      stores: redisWebhookStores(redis, `t${++count}:`, 'node-a', 600_000, maxDeadLetters),
      close: async () => {
        redis.disconnect();
      },
    };
  },
});
