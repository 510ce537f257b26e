import Redis from 'ioredis';
import { RedisRoomKeys, RedisRoomStore } from '../../../src/store/redis/redis-room-store';
import { TestRedis } from '../../support/redis-server';
import { roomStoreContract } from '../contract/room-store.contract';

let server: TestRedis;
beforeAll(async () => {
  server = await TestRedis.start();
});
afterAll(async () => {
  await server.stop();
});

let count = 0;
roomStoreContract({
  name: 'redis',
  fresh: async () => {
    // Each test's data under a prefix of its own; every instance on a connection of its own (another node).
    const keys = new RedisRoomKeys(`t${++count}:`);
    const connections: Redis[] = [];
    const instance = () => {
      const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      connections.push(redis);
      return new RedisRoomStore(redis, keys);
    };
    return {
      rooms: instance(),
      another: async () => instance(),
      sharesOccupants: true,
      close: async () => {
        for (const redis of connections) redis.disconnect();
      },
    };
  },
});
