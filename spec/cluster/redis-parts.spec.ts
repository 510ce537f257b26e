import Redis from 'ioredis';
import { RedisKeys } from '../../src/cluster/keys';
import { RedisBus } from '../../src/cluster/redis-bus';
import { RedisOfflineStore } from '../../src/cluster/redis-offline-store';
import { RedisRosterStore } from '../../src/cluster/redis-roster-store';
import { RedisRouteTable } from '../../src/cluster/redis-route-table';
import { RedisXmlStore } from '../../src/cluster/redis-xml-store';
import { SessionRegistry } from '../../src/cluster/session-registry';
import { createLogger } from '../../src/observability/logger';
import type { BusMessage, RouteEntry } from '../../src/routing/route-table';
import { TestRedis } from '../support/redis-server';

let server: TestRedis;
let redis: Redis;
const keys = new RedisKeys('t:');

beforeAll(async () => {
  server = await TestRedis.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const entry = (resource: string, node: string): RouteEntry => ({
  resource,
  node,
  available: true,
  priority: 0,
  interested: false,
  carbons: false,
  presence: undefined,
});

describe('RedisRouteTable (user → resources)', () => {
  it('keeps a newer binding on another node when an older node removes the same resource', async () => {
    const routes = new RedisRouteTable(redis, keys);
    await routes.put('a@d', entry('web', 'n1'));
    await routes.put('a@d', entry('web', 'n2'));
    await routes.remove('a@d', 'web', 'n1');
    expect((await routes.resources('a@d')).map((e) => e.node)).toEqual(['n2']);
  });

  it('removes every route of a dead node and says which', async () => {
    const routes = new RedisRouteTable(redis, keys);
    await routes.put('b@d', entry('x', 'dead'));
    await routes.put('b@d', entry('y', 'alive'));
    await routes.put('c@d', entry('z', 'dead'));
    const removed = await routes.removeNode('dead');
    expect(removed.map((r) => `${r.bare}/${r.entry.resource}`).sort()).toEqual(['b@d/x', 'c@d/z']);
    expect((await routes.resources('b@d')).map((e) => e.resource)).toEqual(['y']);
  });
});

describe('SessionRegistry (sid → node)', () => {
  it('registers, finds, and forgets a dead node’s sids', async () => {
    const registry = new SessionRegistry(redis, keys, 'n9');
    await registry.register('s1');
    await registry.register('s2');
    expect(await registry.owner('s1')).toBe('n9');
    await registry.unregister('s2');
    expect(await registry.owner('s2')).toBeNull();
    expect(await new SessionRegistry(redis, keys, 'other').removeNode('n9')).toBe(1);
    expect(await registry.owner('s1')).toBeNull();
  });
});

describe('RedisOfflineStore (XEP-0160)', () => {
  it('is bounded per user and hands every message over once', async () => {
    const store = new RedisOfflineStore(redis, keys, 2);
    const at = new Date('2026-01-02T03:04:05Z');
    expect(await store.push('u', { stanza: '<message/>', storedAt: at })).toBe(true);
    expect(await store.push('u', { stanza: '<message id="2"/>', storedAt: at })).toBe(true);
    expect(await store.push('u', { stanza: '<message id="3"/>', storedAt: at })).toBe(false);
    const taken = await store.take('u');
    expect(taken.map((m) => m.stanza)).toEqual(['<message/>', '<message id="2"/>']);
    expect(taken[0]?.storedAt.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(await store.take('u')).toEqual([]);
  });

  it('is bounded in bytes per user too, and a take frees the room again', async () => {
    const store = new RedisOfflineStore(redis, keys, 100, 40);
    const at = new Date();
    const stanza = `<message id='${'a'.repeat(8)}'/>`; // 23 bytes
    expect(await store.push('b', { stanza, storedAt: at })).toBe(true);
    expect(await store.push('b', { stanza, storedAt: at })).toBe(false);
    expect(await store.push('b', { stanza: '<message/>', storedAt: at })).toBe(true);
    expect((await store.take('b')).map((m) => m.stanza)).toEqual([stanza, '<message/>']);
    expect(await redis.exists(keys.offlineBytes('b'))).toBe(0);
    expect(await store.push('b', { stanza, storedAt: at })).toBe(true);
  });
});

describe('RedisXmlStore (XEP-0049, XEP-0054)', () => {
  it('lists a user’s keys with a prefix', async () => {
    const store = new RedisXmlStore(redis, keys);
    await store.set('x', 'private a urn:a', '<a/>');
    await store.set('x', 'private b urn:b', '<b/>');
    await store.set('x', 'vcard', '<vCard/>');
    expect((await store.keysOf('x', 'private ')).sort()).toEqual(['private a urn:a', 'private b urn:b']);
    expect(await store.keysOf('nobody', 'private ')).toEqual([]);
  });
});

describe('RedisRosterStore size (ROSTER_MAX_ITEMS)', () => {
  it('counts the items of a roster', async () => {
    const store = new RedisRosterStore(redis, keys);
    expect(await store.size('sized')).toBe(0);
    await store.setItem('sized', { jid: 'a@d', subscription: 'none', ask: false, approved: false, groups: [] });
    await store.setItem('sized', { jid: 'b@d', subscription: 'none', ask: false, approved: false, groups: [] });
    expect(await store.size('sized')).toBe(2);
  });
});

describe('RedisRosterStore (RFC 6121 §2)', () => {
  it('bumps the version on every change and keeps pending requests apart', async () => {
    const store = new RedisRosterStore(redis, keys);
    const v1 = await store.setItem('r', { jid: 'x@d', subscription: 'none', ask: true, approved: false, groups: ['Friends'] });
    const v2 = await store.removeItem('r', 'x@d');
    expect(v2).toBe(v1 + 1);
    expect(await store.removeItem('r', 'x@d')).toBe(v2);
    await store.addPendingIn('r', { from: 'y@d', stanza: '<presence/>' });
    expect(await store.pendingIn('r')).toEqual([{ from: 'y@d', stanza: '<presence/>' }]);
    expect(await store.removePendingIn('r', 'y@d')).toBe(true);
  });
});

describe('RedisBus (stanzas to the owning node)', () => {
  it('delivers in order to the owner, refuses a dead node, and leaves unread messages for the reaper', async () => {
    const reader = new Redis(server.url, { maxRetriesPerRequest: null });
    const alive = new Set(['owner']);
    const logger = createLogger('silent');
    const sender = new RedisBus(redis, new Redis(server.url), keys, 'sender', async (n) => alive.has(n), logger);
    const owner = new RedisBus(redis, reader, keys, 'owner', async (n) => alive.has(n), logger);
    const got: BusMessage[] = [];
    owner.start(async (m) => {
      got.push(m);
    });
    for (let i = 0; i < 5; i++) await sender.send('owner', { kind: 'deliver', to: 'a@d/r', stanza: `<m n='${i}'/>`, hops: 1 });
    for (let i = 0; i < 50 && got.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got.map((m) => (m.kind === 'deliver' ? m.stanza : ''))).toEqual([0, 1, 2, 3, 4].map((i) => `<m n='${i}'/>`));
    await expect(sender.send('gone', { kind: 'replace', bare: 'a@d', resource: 'r' })).rejects.toThrow(/not alive/);
    owner.stop();
    // Written while the owner is not reading: the reaper drains it.
    await sender.send('owner', { kind: 'deliver', to: 'a@d/r', stanza: '<late/>', hops: 1 });
    const left = await sender.drain('owner');
    expect(left.map((m) => (m.kind === 'deliver' ? m.stanza : ''))).toEqual(['<late/>']);
    sender.stop();
  });
});
