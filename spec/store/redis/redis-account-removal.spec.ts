import Redis from 'ioredis';
import { removeAccount, type AccountData } from '../../../src/store/account-removal';
import { storeAffiliationRemoval } from '../../../src/store/affiliation-removal';
import { AuthCache } from '../../../src/store/auth-cache';
import { RedisAccountStore } from '../../../src/store/redis/redis-account-store';
import { RedisOfflineStore } from '../../../src/store/redis/redis-offline-store';
import { RedisRosterStore } from '../../../src/store/redis/redis-roster-store';
import { RedisStoreKeys } from '../../../src/store/redis/store-keys';
import { RedisXmlStore } from '../../../src/store/redis/redis-xml-store';
import { RedisRoomKeys, RedisRoomStore } from '../../../src/store/redis/redis-room-store';
import { DEFAULT_ROOM_CONFIG } from '../../../src/store/room-store';
import { TestRedis } from '../../support/redis-server';

const PREFIX = 'removal:';

let server: TestRedis;
let redis: Redis;
let stores: AccountData;
let rooms: RedisRoomStore;
beforeAll(async () => {
  server = await TestRedis.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  const keys = new RedisStoreKeys(PREFIX);
  rooms = new RedisRoomStore(redis, new RedisRoomKeys(PREFIX));
  stores = {
    accounts: new RedisAccountStore(redis, keys, 4096, new AuthCache(100, 60_000)),
    rosters: new RedisRosterStore(redis, keys),
    offline: new RedisOfflineStore(redis, keys, 100, 1_000_000),
    documents: new RedisXmlStore(redis, keys),
    rooms: { deleteUser: (user) => storeAffiliationRemoval(rooms, 'd').removeAffiliations(`${user}@d`) },
  };
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

async function leaveData(user: string): Promise<void> {
  await stores.accounts.create(user, 'secret');
  await stores.rosters.setItem(user, { jid: 'zoe@d', subscription: 'both', ask: false, approved: false, groups: [] });
  await stores.rosters.addPendingIn(user, { from: 'carol@d', stanza: '<presence type="subscribe"/>' });
  await stores.offline.push(user, { stanza: '<message><body>hi</body></message>', storedAt: new Date() });
  await stores.documents.set(user, 'vcard', '<vCard xmlns="vcard-temp"/>');
}

/** Every key under the prefix that names `user` (a test database: SCAN over it all is fine here). */
async function keysOf(user: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    found.push(...keys.filter((key) => key.split(':').includes(user)));
    cursor = next;
  } while (cursor !== '0');
  return found.map((key) => key.slice(PREFIX.length)).sort();
}

describe('removing an account from the Redis store', () => {
  it('leaves no key of it but its roster version, and its name out of the account index, while the account beside it keeps all', async () => {
    await leaveData('alice');
    await leaveData('bob');
    const bobs = ['account:bob', 'docs:bob', 'offline:bob', 'offline:bob:bytes', 'roster:bob', 'roster:bob:pending', 'roster:bob:ver'];
    expect(await keysOf('bob')).toEqual(bobs);
    expect(await keysOf('alice')).toEqual(bobs.map((key) => key.replace('bob', 'alice')));
    expect(await removeAccount(stores, 'alice')).toBe(true);
    expect(await keysOf('alice')).toEqual(['roster:alice:ver']);
    expect(await redis.zrange(`${PREFIX}accounts`, 0, -1)).toEqual(['bob']);
    expect(await keysOf('bob')).toEqual(bobs);
  });

  it('takes its affiliations out of every room and its per-user index, a room it alone owned passing to the domain (XEP-0045 §10.6)', async () => {
    await stores.accounts.create('dave', 'secret');
    await rooms.create('daves', DEFAULT_ROOM_CONFIG, 'dave@d');
    await rooms.setAffiliation('daves', 'erin@d', 'member');
    await rooms.create('erins', DEFAULT_ROOM_CONFIG, 'erin@d');
    await rooms.setAffiliation('erins', 'dave@d', 'outcast');
    await removeAccount(stores, 'dave');
    expect(await rooms.affiliationsOf('dave@d')).toEqual([]);
    expect(await redis.exists(`${PREFIX}affiliated-rooms:dave@d`)).toBe(0);
    expect(await redis.hgetall(`${PREFIX}room:daves:aff`)).toEqual({ 'erin@d': 'member', d: 'owner' });
    expect(await redis.hgetall(`${PREFIX}room:erins:aff`)).toEqual({ 'erin@d': 'owner' });
  });
});
