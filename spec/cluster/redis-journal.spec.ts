import Redis from 'ioredis';
import { RedisKeys } from '../../src/cluster/keys';
import { JournalReplay } from '../../src/cluster/journal-replay';
import { RedisJournal } from '../../src/cluster/redis-journal';
import { createLogger } from '../../src/observability/logger';
import type { BusMessage } from '../../src/routing/route-table';
import { freePort, TestRedis } from '../support/redis-server';

let server: TestRedis;
let redis: Redis;
const keys = new RedisKeys('journal-spec:');
const logger = createLogger('silent');

beforeAll(async () => {
  server = await TestRedis.start();
  redis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const message = (n: number): BusMessage => ({ kind: 'deliver', to: 'bob@localhost', stanza: `<message id="m${n}"/>`, hops: 0 });

async function entriesOf(node: string): Promise<string[]> {
  const entries = (await redis.xrange(keys.journal(node), '-', '+')) as Array<[string, string[]]>;
  return entries.map(([, fields]) => (JSON.parse(fields[1] as string) as { stanza: string }).stanza);
}

describe('RedisJournal: a node’s messages to its own sessions, kept until their clients confirm them (XEP-0124 §9.1)', () => {
  it('writes each message as one entry of journal:<node> (those of one turn together) and deletes each once it is settled', async () => {
    const journal = new RedisJournal(redis, keys, 'n1', logger);
    const pipelines = jest.spyOn(redis, 'pipeline');
    const first = journal.keep(message(1));
    const second = journal.keep(message(2));
    await Promise.all([first.written, second.written]);
    expect(pipelines).toHaveBeenCalledTimes(1);
    pipelines.mockRestore();
    expect(await entriesOf('n1')).toEqual(['<message id="m1"/>', '<message id="m2"/>']);
    second.settled();
    second.settled();
    await journal.idle();
    expect(await entriesOf('n1')).toEqual(['<message id="m1"/>']);
    first.settled();
    await journal.idle();
    expect(await entriesOf('n1')).toEqual([]);
  });

  it('deletes an entry settled before its write came back, once it is written', async () => {
    const journal = new RedisJournal(redis, keys, 'n2', logger);
    const entry = journal.keep(message(3));
    entry.settled();
    await entry.written;
    await journal.idle();
    expect(await entriesOf('n2')).toEqual([]);
  });

  it('deletes an entry settled while the previous deletion is on its way, without waiting for another to settle', async () => {
    const journal = new RedisJournal(redis, keys, 'n4', logger);
    const [first, second] = [journal.keep(message(6)), journal.keep(message(7))];
    await Promise.all([first.written, second.written]);
    const xdel = redis.xdel.bind(redis);
    const deletions = jest.spyOn(redis, 'xdel').mockImplementation((...args: Parameters<Redis['xdel']>) => {
      // The second is confirmed while the first one's XDEL is in flight.
      if (deletions.mock.calls.length === 1) second.settled();
      return xdel(...args);
    });
    first.settled();
    // Nothing else settles (and `idle` is not called, which would flush them): the second goes by itself.
    for (let tries = 0; tries < 100 && (await entriesOf('n4')).length > 0; tries++) await new Promise((r) => setTimeout(r, 20));
    deletions.mockRestore();
    expect(await entriesOf('n4')).toEqual([]);
  });

  it('when Redis cannot be written, resolves at once without an entry and counts it (bus_journal_skipped_total)', async () => {
    const nowhere = new Redis(await freePort(), { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
    let skipped = 0;
    const journal = new RedisJournal(nowhere, keys, 'n3', logger, { journalSkipped: () => skipped++ });
    const entries = [journal.keep(message(4)), journal.keep(message(5))];
    await Promise.all(entries.map((e) => e.written));
    expect(skipped).toBe(2);
    // Settling an entry that was never written asks nothing of Redis.
    for (const e of entries) e.settled();
    await journal.idle();
    journal.stop();
    nowhere.disconnect();
  });
});

describe('JournalReplay: what a node left in its journal is routed again', () => {
  async function fill(node: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 1; n <= count; n++) ids.push((await redis.xadd(keys.journal(node), '*', 'm', JSON.stringify(message(n)))) as string);
    return ids;
  }

  it('routes each entry, oldest first, and deletes it only after it was routed', async () => {
    await fill('dead', 3);
    const replay = new JournalReplay(redis, keys, logger, 'reaper');
    const seen: Array<{ stanza: string; stillThere: number }> = [];
    const count = await replay.replay('dead', async (m) => {
      seen.push({ stanza: m.kind === 'deliver' ? m.stanza : '', stillThere: await redis.xlen(keys.journal('dead')) });
    });
    expect(count).toBe(3);
    expect(seen).toEqual([
      { stanza: '<message id="m1"/>', stillThere: 3 },
      { stanza: '<message id="m2"/>', stillThere: 2 },
      { stanza: '<message id="m3"/>', stillThere: 1 },
    ]);
    expect(await replay.removeIfEmpty('dead')).toBe(true);
    expect(await redis.exists(keys.journal('dead'))).toBe(0);
  });

  it('leaves what it could not route for the next attempt', async () => {
    await fill('halfway', 3);
    const replay = new JournalReplay(redis, keys, logger, 'reaper');
    let calls = 0;
    await expect(
      replay.replay('halfway', async () => {
        if (++calls === 2) throw new Error('Redis went away');
      }),
    ).rejects.toThrow('Redis went away');
    expect(await entriesOf('halfway')).toEqual(['<message id="m2"/>', '<message id="m3"/>']);
    expect(await replay.removeIfEmpty('halfway')).toBe(false);
    expect(await replay.replay('halfway', async () => undefined)).toBe(2);
  });

  it('takes entries up to the given one only: later ones are a live node’s of the same id (a restart), not a leftover', async () => {
    const [, second] = await fill('restarted', 3);
    const replay = new JournalReplay(redis, keys, logger, 'restarted');
    expect(await replay.replay('restarted', async () => undefined, second)).toBe(2);
    expect(await entriesOf('restarted')).toEqual(['<message id="m3"/>']);
    expect(await replay.newest('restarted')).toBeDefined();
    expect(await replay.newest('nobody')).toBeUndefined();
  });
});
