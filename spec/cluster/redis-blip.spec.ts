/**
 * A Redis blip delays cross-node delivery instead of refusing it: bus messages wait in a bounded
 * outbox (BUS_OUTBOX_MAX, BUS_OUTBOX_SECONDS) and go out, in order and once, when Redis is back;
 * routes already known keep serving; a heartbeat lost in a Redis restart is not taken for a dead node.
 * Real redis-server, stopped and started again on the same port.
 */
import Redis from 'ioredis';
import { BusOutbox } from '../../src/cluster/bus-outbox';
import { RedisKeys } from '../../src/cluster/keys';
import { Membership } from '../../src/cluster/membership';
import { RedisBus } from '../../src/cluster/redis-bus';
import { RedisRouteTable } from '../../src/cluster/redis-route-table';
import { createLogger } from '../../src/observability/logger';
import { createRedis, whenReady } from '../../src/redis/redis-client';
import type { BusMessage } from '../../src/routing/route-table';
import { TestRedis } from '../support/redis-server';

const logger = createLogger('silent');
const keys = new RedisKeys('blip:');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const message = (n: number): BusMessage => ({ kind: 'deliver', to: 'a@d/r', stanza: `<m n='${n}'/>`, hops: 1 });

async function until(test: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !test() && Date.now() < deadline;) await sleep(20);
}

describe('BusOutbox (messages waiting for Redis)', () => {
  it('sends in order once writes succeed again, and refuses past its bounds', async () => {
    let up = false;
    const written: number[] = [];
    let now = 0;
    const outbox = new BusOutbox<number>(
      { maxMessages: 3, maxAgeMs: 1000 },
      async (_node, n) => {
        if (!up) throw new Error('down');
        written.push(n);
        return 'sent';
      },
      () => now,
    );
    const settled = [1, 2, 3].map((n) => outbox.hold('x', n));
    await expect(outbox.hold('x', 4)).rejects.toThrow(/full/);
    await outbox.flush();
    expect(written).toEqual([]);
    up = true;
    await outbox.flush();
    await Promise.all(settled);
    expect(written).toEqual([1, 2, 3]);
    up = false;
    const old = outbox.hold('x', 5);
    now = 1001;
    await outbox.flush();
    await expect(old).rejects.toThrow(/waited more than 1000 ms/);
    expect(outbox.size).toBe(0);
  });
});

describe('through a real Redis restart', () => {
  let server: TestRedis;
  beforeEach(async () => {
    server = await TestRedis.start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('a bus message sent while Redis is down arrives, once and in order, when it is back', async () => {
    const sending = createRedis({ url: server.url }, 'sender', logger);
    const reading = createRedis({ url: server.url }, 'reader', logger, undefined, true);
    const main = createRedis({ url: server.url }, 'owner', logger);
    await Promise.all([whenReady(sending, 5000), whenReady(reading, 5000), whenReady(main, 5000)]);
    const sender = new RedisBus(sending, new Redis(server.url), keys, 'sender', async () => true, logger);
    const owner = new RedisBus(main, reading, keys, 'owner', async () => true, logger);
    const got: string[] = [];
    owner.start(async (m) => void got.push(m.kind === 'deliver' ? m.stanza : ''));
    await sender.send('owner', message(0));
    await until(() => got.length === 1, 3000);

    await server.stop();
    await until(() => sending.status !== 'ready', 3000);
    const during = [1, 2, 3].map((n) => sender.send('owner', message(n)));
    await until(() => sender.waiting === 3, 2000);
    expect(sender.waiting).toBe(3);
    await server.start();
    await Promise.all(during);
    await until(() => got.length === 4, 5000);
    await sleep(300);
    expect(got).toEqual([0, 1, 2, 3].map((n) => `<m n='${n}'/>`));
    await owner.stop();
    await sender.stop();
    for (const r of [sending, main]) r.disconnect();
  });

  it('a message that waited past BUS_OUTBOX_SECONDS fails, so its sender routes it again', async () => {
    const sending = createRedis({ url: server.url }, 'sender', logger);
    await whenReady(sending, 5000);
    const sender = new RedisBus(sending, new Redis(server.url), keys, 'sender', async () => true, logger, { maxMessages: 10, maxAgeMs: 300 });
    await server.stop();
    await until(() => sending.status !== 'ready', 3000);
    await expect(sender.send('owner', message(1))).rejects.toThrow(/waited more than 300 ms/);
    await sender.stop();
    sending.disconnect();
  });

  it('routes known before the outage still answer while Redis is down', async () => {
    const client = createRedis({ url: server.url }, 'routes', logger);
    await whenReady(client, 5000);
    const routes = new RedisRouteTable(client, keys);
    const entry = { resource: 'r', node: 'n1', available: true, priority: 0, interested: false, carbons: false, presence: undefined };
    await routes.put('a@d', entry);
    expect(await routes.resources('a@d')).toEqual([entry]);
    await server.stop();
    await until(() => client.status !== 'ready', 3000);
    expect(await routes.resources('a@d')).toEqual([entry]);
    await expect(routes.resources('never-asked@d')).rejects.toThrow();
    client.disconnect();
  });

  it('a heartbeat missing for less than a TTL (a Redis restart) is not a dead node; missing for a TTL is', async () => {
    const client = new Redis(server.url);
    const timing = { heartbeatMs: 100, ttlMs: 400 };
    const peer = new Membership(client, keys, 'peer', 'http://peer', timing);
    const watcher = new Membership(client, keys, 'watcher', 'http://watcher', timing);
    await peer.join();
    await peer.leave();
    // As after a restart that lost the key: missing, but not for a whole TTL yet.
    expect(await watcher.deadNodes()).toEqual([]);
    expect(await watcher.isAlive('peer')).toBe(true);
    await sleep(450);
    expect(await watcher.deadNodes()).toEqual(['peer']);
    client.disconnect();
  });
});
