import Redis from 'ioredis';
import { RedisKeys } from '../../src/cluster/keys';
import { RedisBus } from '../../src/cluster/redis-bus';
import { RedisRouteTable } from '../../src/cluster/redis-route-table';
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
    await owner.stop();
    // Written while the owner is not reading: the reaper drains it, and the entry goes once handled.
    await sender.send('owner', { kind: 'deliver', to: 'a@d/r', stanza: '<late/>', hops: 1 });
    const left: BusMessage[] = [];
    expect(await sender.drain('owner', async (m) => void left.push(m))).toBe(1);
    expect(left.map((m) => (m.kind === 'deliver' ? m.stanza : ''))).toEqual(['<late/>']);
    expect(await redis.xlen(keys.bus('owner'))).toBe(0);
    await sender.stop();
  });
});
