import Redis from 'ioredis';
import { RedisOfflineStore } from '../../../src/store/redis/redis-offline-store';
import { RedisStoreKeys } from '../../../src/store/redis/store-keys';
import { TestRedis } from '../../support/redis-server';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await TestRedis.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** XEP-0160 storage written by a release before leases (entries without an id), read by this one. */
describe('Redis offline entries kept by an earlier release', () => {
  it('get an id at their first lease, keep it through a release, and settle with their bytes', async () => {
    const keys = new RedisStoreKeys('upgrade:');
    const legacy = (stanza: string): string => JSON.stringify({ stanza, storedAt: '2026-01-01T00:00:00.000Z' });
    await redis.rpush(keys.offline('bob'), legacy('<old-é/>'), legacy('<old-2/>'));
    await redis.set(keys.offlineBytes('bob'), Buffer.byteLength('<old-é/><old-2/>'));
    const offline = new RedisOfflineStore(redis, keys, 100, 1_000_000);

    const first = await offline.lease('bob', 60_000);
    expect(first.map((m) => [m.stanza, m.storedAt.toISOString()])).toEqual([
      ['<old-é/>', '2026-01-01T00:00:00.000Z'],
      ['<old-2/>', '2026-01-01T00:00:00.000Z'],
    ]);
    expect(new Set(first.map((m) => m.id)).size).toBe(2);
    await offline.release(
      'bob',
      first.map((m) => m.id),
    );
    const again = await offline.lease('bob', 60_000);
    expect(again).toEqual(first);

    await offline.settle('bob', [again[0]?.id as string]);
    expect(await redis.get(keys.offlineBytes('bob'))).toBe(String(Buffer.byteLength('<old-2/>')));
    await offline.settle('bob', [again[1]?.id as string]);
    expect(await redis.exists(keys.offline('bob'), keys.offlineBytes('bob'))).toBe(0);
  });
});
