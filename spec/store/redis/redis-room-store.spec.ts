import Redis from 'ioredis';
import { RedisRoomKeys, RedisRoomStore } from '../../../src/store/redis/redis-room-store';
import { TestRedis } from '../../support/redis-server';
import { DEFAULT_ROOM_CONFIG } from '../../../src/store/room-store';
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

describe('the Redis per-user index of affiliations, for rooms kept before it existed', () => {
  it('is built once at start-up from every room’s affiliations, and a node starting later finds it built', async () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const keys = new RedisRoomKeys('upgrade:');
      // Two rooms as a release without the index wrote them: the room, its affiliations, the room list.
      for (const [room, affiliations] of [
        ['crew', { 'alice@localhost': 'owner', 'bob@localhost': 'member' }],
        ['ops', { 'bob@localhost': 'owner', 'carol@localhost': 'outcast' }],
      ] as const) {
        await redis.hset(keys.room(room), 'config', JSON.stringify(DEFAULT_ROOM_CONFIG));
        await redis.hset(keys.affiliations(room), affiliations);
        await redis.sadd(keys.rooms(), room);
      }
      const rooms = new RedisRoomStore(redis, keys);
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([]);
      expect(await rooms.buildAffiliationIndex()).toBe(2);
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([
        { room: 'crew', affiliation: 'member' },
        { room: 'ops', affiliation: 'owner' },
      ]);
      expect(await rooms.affiliationsOf('carol@localhost')).toEqual([{ room: 'ops', affiliation: 'outcast' }]);
      // Changes from here on keep the index; another node starting reads no room again.
      await rooms.setAffiliation('crew', 'bob@localhost', 'none');
      expect(await new RedisRoomStore(redis, keys).buildAffiliationIndex()).toBe(0);
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([{ room: 'ops', affiliation: 'owner' }]);
    } finally {
      redis.disconnect();
    }
  });

  it('passes over an index entry its room no longer confirms (a build that raced a change)', async () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const keys = new RedisRoomKeys('stale:');
      const rooms = new RedisRoomStore(redis, keys);
      await rooms.create('crew', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await redis.sadd(keys.affiliatedRooms('bob@localhost'), 'crew', 'gone');
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([]);
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([{ room: 'crew', affiliation: 'owner' }]);
    } finally {
      redis.disconnect();
    }
  });
});
