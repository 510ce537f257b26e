import Redis from 'ioredis';
import type { ArchiveRetention } from '../../../src/store/archive-store';
import { RedisArchiveKeys } from '../../../src/store/redis/archive-keys';
import { RedisArchiveStore } from '../../../src/store/redis/redis-archive-store';
import { TestRedis } from '../../support/redis-server';
import { archiveStoreContract, type ArchiveInstance } from '../contract/archive-store.contract';

let server: TestRedis;
beforeAll(async () => {
  server = await TestRedis.start();
});
afterAll(async () => {
  await server.stop();
});

/** The archive under `prefix` on a connection of its own (what another node opens). */
function open(prefix: string, retention: ArchiveRetention, now: () => Date): ArchiveInstance {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  return {
    archive: new RedisArchiveStore(redis, new RedisArchiveKeys(prefix), retention, now),
    another: async () => open(prefix, retention, now),
    close: async () => {
      redis.disconnect();
    },
  };
}

let count = 0;
archiveStoreContract({
  name: 'redis',
  concurrentWriters: true,
  // Each test's data under a prefix of its own on the one server.
  fresh: async (retention, now) => open(`t${++count}:`, retention, now),
});
