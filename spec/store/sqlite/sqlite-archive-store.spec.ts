import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatConversation, type ArchiveRetention } from '../../../src/store/archive-store';
import { openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/database';
import { inThreadArchiveWriter, type ArchiveWriter } from '../../../src/store/sqlite/archive-writer';
import { SqliteArchiveStore, type SqliteArchiveOptions } from '../../../src/store/sqlite/sqlite-archive-store';
import { ThreadedArchiveWriter } from '../../../src/store/sqlite/threaded-archive-writer';
import { archiveStoreContract, type ArchiveInstance } from '../contract/archive-store.contract';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The node's writer: a thread of its own, falling back to this one. */
const threadWriter = (db: SqliteDatabase, retention: ArchiveRetention): ArchiveWriter =>
  new ThreadedArchiveWriter(
    db.name,
    retention,
    () => inThreadArchiveWriter(db, retention),
    (err) => {
      throw err;
    },
  );

/** The archive over the database in `dir`, on a connection of its own (what a restarted node opens). */
function open(dir: string, retention: ArchiveRetention, now: () => Date, options: SqliteArchiveOptions): ArchiveInstance {
  const db = openDatabase(dir);
  const archive = new SqliteArchiveStore(db, retention, now, options);
  return {
    archive,
    another: async () => open(dir, retention, now, options),
    close: async () => {
      await archive.close();
      db.close();
    },
  };
}

for (const [name, options] of [
  ['sqlite', {}],
  ['sqlite with a writer thread', { writer: threadWriter }],
] as const) {
  archiveStoreContract({
    name,
    concurrentWriters: false,
    fresh: async (retention, now) => {
      const dir = mkdtempSync(join(tmpdir(), 'gateway-archive-'));
      dirs.push(dir);
      return open(dir, retention, now, options);
    },
  });
}

describe('SQLite ArchiveStore group commit', () => {
  const entry = (body: string) => ({
    conversation: chatConversation('a@x', 'b@x'),
    copies: [
      { owner: 'a@x', with: 'b@x' },
      { owner: 'b@x', with: 'a@x' },
    ],
    from: 'a@x/r',
    to: 'b@x',
    type: 'chat' as const,
    body,
    stanza: `<message><body>${body}</body></message>`,
  });
  const rowsIn = (db: SqliteDatabase): number => (db.prepare('SELECT count(*) AS n FROM archive_messages').get() as { n: number }).n;
  const openStore = (options: SqliteArchiveOptions) => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-archive-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    return { db, store: new SqliteArchiveStore(db, { maxPerOwner: 2, maxAgeMs: 0 }, () => new Date(), options) };
  };

  it('numbers appends at once and writes them together when the timer fires', async () => {
    const timers: Array<() => void> = [];
    const { db, store } = openStore({ schedule: (flush) => (timers.push(flush), () => undefined) });
    expect((await store.append(entry('one'))).seq).toBe(1);
    expect((await store.append(entry('two'))).seq).toBe(2);
    expect(await store.lastSeq(chatConversation('a@x', 'b@x'))).toBe(2);
    expect(timers).toHaveLength(1);
    expect(rowsIn(db)).toBe(0);
    timers[0]?.();
    expect(rowsIn(db)).toBe(4);
    db.close();
  });

  it('commits what is pending before any read, and at maxBatch rows without waiting', async () => {
    const { db, store } = openStore({ schedule: () => () => undefined, maxBatch: 6 });
    await store.append(entry('one'));
    const page = await store.query({ owner: 'b@x', limit: 10 });
    expect('messages' in page && page.messages.map((m) => m.body)).toEqual(['one']);
    await store.append(entry('two'));
    await store.append(entry('three'));
    await store.append(entry('four'));
    // The retention count (2 per owner) is kept at the commit.
    expect(rowsIn(db)).toBe(4);
    db.close();
  });

  it('reports a commit it could not write, with the rows lost', async () => {
    const failures: number[] = [];
    const { db, store } = openStore({ schedule: () => () => undefined, onWriteFailure: (_err, rows) => failures.push(rows) });
    await store.append(entry('one'));
    db.exec('DROP TABLE archive_totals');
    await store.flush();
    expect(failures).toEqual([2]);
    db.close();
  });

  it('with a writer thread: numbers at once, commits in the thread, and reads see every append', async () => {
    const { db, store } = openStore({ schedule: () => () => undefined, writer: threadWriter });
    for (const body of ['one', 'two', 'three']) await store.append(entry(body));
    expect(await store.lastSeq(chatConversation('a@x', 'b@x'))).toBe(3);
    const page = await store.query({ owner: 'b@x', limit: 10 });
    // The retention count (2 per owner) is kept by the thread's commit too.
    expect('messages' in page && page.messages.map((m) => m.body)).toEqual(['two', 'three']);
    expect(rowsIn(db)).toBe(4);
    await store.close();
    db.close();
  });

  it('a writer thread that dies: its unconfirmed batch is reported lost, later writes go on in this thread', async () => {
    const failures: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'gateway-archive-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    let writer: ThreadedArchiveWriter | undefined;
    const store = new SqliteArchiveStore(db, { maxPerOwner: 0, maxAgeMs: 0 }, () => new Date(), {
      schedule: () => () => undefined,
      onWriteFailure: (err) => failures.push(`batch: ${(err as Error).message}`),
      writer: (database, retention) =>
        (writer = new ThreadedArchiveWriter(
          database.name,
          retention,
          () => inThreadArchiveWriter(database, retention),
          () => failures.push('thread'),
        )),
    });
    await store.append(entry('kept'));
    await store.flush();
    // The thread goes away as a crash would take it (not through close()).
    await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect(failures).toEqual(['thread']);
    await store.append(entry('after'));
    const page = await store.query({ owner: 'a@x', limit: 10 });
    expect('messages' in page && page.messages.map((m) => m.body)).toEqual(['kept', 'after']);
    await store.close();
    db.close();
  });

  it('while a batch is being written the next one grows instead of queueing, and reads still commit at once', async () => {
    const batches: number[] = [];
    const unblock: Array<() => void> = [];
    const timers: Array<() => void> = [];
    const { db, store } = openStore({
      schedule: (flush) => (timers.push(flush), () => undefined),
      writer: (database, retention) => {
        const inThread = inThreadArchiveWriter(database, retention);
        return {
          ...inThread,
          write: (records) => {
            batches.push(records.length);
            return new Promise<void>((resolve) => unblock.push(() => void inThread.write(records).then(resolve)));
          },
        };
      },
    });
    await store.append(entry('one'));
    timers.shift()?.();
    expect(batches).toEqual([1]);
    // The timer fires again while the first batch is still being written: nothing is handed over yet.
    await store.append(entry('two'));
    await store.append(entry('three'));
    timers.shift()?.();
    expect(batches).toEqual([1]);
    unblock.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([1, 2]);
    // A read does not wait for the writer to be free.
    await store.append(entry('four'));
    const read = store.query({ owner: 'a@x', limit: 10 });
    expect(batches).toEqual([1, 2, 1]);
    unblock.shift()?.();
    unblock.shift()?.();
    const page = await read;
    expect('messages' in page && page.messages.map((m) => m.body)).toEqual(['three', 'four']);
    db.close();
  });
});
