import Redis from 'ioredis';
import pino from 'pino';
import { Writable } from 'node:stream';
import { RedisKeys } from '../../src/cluster/keys';
import { Membership } from '../../src/cluster/membership';
import { RedisBus } from '../../src/cluster/redis-bus';
import { RedisRouteTable } from '../../src/cluster/redis-route-table';
import { SessionRegistry } from '../../src/cluster/session-registry';
import { createLogger } from '../../src/observability/logger';
import type { BusMessage, RouteEntry } from '../../src/routing/route-table';
import { BUS_MESSAGE_KINDS } from '../../src/routing/bus-kinds';
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

/** A logger whose warnings are kept, one parsed line each. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

describe('RedisBus: a message of a kind this release does not read (rolling upgrades, docs/deployment.md)', () => {
  it('leaves it in the stream unsettled, logs the kind once, and goes on with the next messages', async () => {
    const { logger, lines } = recordingLogger();
    const alive = async () => true;
    const sender = new RedisBus(redis, new Redis(server.url), keys, 'newer', alive, createLogger('silent'));
    const owner = new RedisBus(redis, new Redis(server.url, { maxRetriesPerRequest: null }), keys, 'older', alive, logger);
    const got: BusMessage[] = [];
    owner.start(async (m) => void got.push(m));
    // What a newer release would write: a kind this one does not know, twice, between two it knows.
    const stream = keys.bus('older');
    await sender.send('older', { kind: 'deliver', to: 'a@d/r', stanza: '<m n="1"/>', hops: 1 });
    for (const n of [2, 3]) await redis.xadd(stream, '*', 'm', JSON.stringify({ kind: 'teleport', to: 'a@d/r', stanza: `<m n="${n}"/>` }), 'u', `x.${n}`);
    await sender.send('older', { kind: 'deliver', to: 'a@d/r', stanza: '<m n="4"/>', hops: 1 });
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got.map((m) => (m.kind === 'deliver' ? m.stanza : ''))).toEqual(['<m n="1"/>', '<m n="4"/>']);
    for (let i = 0; i < 100 && (await redis.xlen(stream)) > 2; i++) await new Promise((r) => setTimeout(r, 20));
    const kept = (await redis.xrange(stream, '-', '+')).map(([, fields]) => (JSON.parse(String(fields[1])) as { kind: string }).kind);
    expect(kept).toEqual(['teleport', 'teleport']);
    expect(lines.filter((l) => l.kind === 'teleport')).toHaveLength(1);
    expect(lines[0]?.msg).toMatch(/does not read/);

    // Leaving, the node drains its own stream: what it does not read stays for the release that does.
    await owner.stop();
    const drained: BusMessage[] = [];
    expect(await owner.drain('older', async (m) => void drained.push(m))).toBe(0);
    expect(await owner.backlog('older')).toBe(2);
    expect(lines.filter((l) => l.kind === 'teleport')).toHaveLength(1);
    await redis.del(stream);
    await sender.stop();
  });
});

describe('Membership: the bus kinds each node announces with its heartbeat', () => {
  it('reads what a node of this release announces, takes a heartbeat without an announcement for an older release, and drops it on leaving', async () => {
    const timing = { heartbeatMs: 100, ttlMs: 400 };
    const newer = new Membership(redis, keys, 'm-new', 'http://127.0.0.1:1', timing);
    const looker = new Membership(redis, keys, 'm-look', 'http://127.0.0.1:2', timing);
    await newer.join();
    expect(await looker.isAlive('m-new')).toBe(true);
    expect([...(await looker.busKinds('m-new'))].sort()).toEqual([...BUS_MESSAGE_KINDS].sort());
    // An older release beats with its URL alone.
    await redis.set(keys.alive('m-old'), 'http://127.0.0.1:3', 'PX', 5_000);
    expect(await looker.isAlive('m-old')).toBe(true);
    expect((await looker.busKinds('m-old')).has('fanout')).toBe(false);
    expect(looker.ownKinds.has('fanout')).toBe(true);
    await newer.leave();
    expect(await redis.exists(keys.alive('m-new'), keys.busKinds('m-new'))).toBe(0);
    await redis.del(keys.alive('m-old'));
  });
});
