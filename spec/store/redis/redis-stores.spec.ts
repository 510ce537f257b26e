import Redis from 'ioredis';
import { AuthCache } from '../../../src/store/auth-cache';
import { RedisAccountStore } from '../../../src/store/redis/redis-account-store';
import { RedisOfflineStore } from '../../../src/store/redis/redis-offline-store';
import { RedisRosterStore } from '../../../src/store/redis/redis-roster-store';
import { RedisStoreKeys } from '../../../src/store/redis/store-keys';
import { RedisXmlStore } from '../../../src/store/redis/redis-xml-store';
import { TestRedis } from '../../support/redis-server';
import { storeContracts, type StoreSet } from '../contract';
import { DEFAULT_OFFLINE, ITERATIONS, type Clock, type OfflineLimits } from '../contract/backend';

let server: TestRedis;
beforeAll(async () => {
  server = await TestRedis.start();
});
afterAll(async () => {
  await server.stop();
});

/** Stores under `prefix` on a connection of their own (what another node opens). */
function open(prefix: string, offline: OfflineLimits, clock: Clock): StoreSet {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  const keys = new RedisStoreKeys(prefix);
  return {
    accounts: new RedisAccountStore(redis, keys, ITERATIONS, new AuthCache(100, 60_000)),
    rosters: new RedisRosterStore(redis, keys),
    offline: new RedisOfflineStore(redis, keys, offline.perUser, offline.bytesPerUser, clock),
    documents: new RedisXmlStore(redis, keys),
    another: async () => open(prefix, offline, clock),
    close: async () => {
      redis.disconnect();
    },
  };
}

let count = 0;
storeContracts({
  name: 'redis',
  // Each test's data under a prefix of its own on the one server.
  fresh: async (offline = DEFAULT_OFFLINE, clock = Date.now) => open(`t${++count}:`, offline, clock),
});
