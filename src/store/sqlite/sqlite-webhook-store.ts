import type { DeadLetter, EnqueueEntry, QueuedDelivery, QueueStats, WebhookQueue, WebhookSinkRecord, WebhookSinkStore, WebhookStores } from '../webhook-store';
import type { SqliteDatabase } from './database';

/** Sinks created over the API, one JSON record per row. */
export class SqliteWebhookSinkStore implements WebhookSinkStore {
  private readonly upsert;
  private readonly one;
  private readonly all;
  private readonly remove;

  constructor(db: SqliteDatabase) {
    this.upsert = db.prepare<[string, number, string]>(
      'INSERT INTO webhook_sinks (id, created_at, record) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record',
    );
    this.one = db.prepare<[string], { record: string }>('SELECT record FROM webhook_sinks WHERE id = ?');
    this.all = db.prepare<[], { record: string }>('SELECT record FROM webhook_sinks ORDER BY created_at, id');
    this.remove = db.prepare<[string]>('DELETE FROM webhook_sinks WHERE id = ?');
  }

  async put(sink: WebhookSinkRecord): Promise<void> {
    this.upsert.run(sink.id, sink.createdAt, JSON.stringify(sink));
  }

  async get(id: string): Promise<WebhookSinkRecord | undefined> {
    const row = this.one.get(id);
    return row ? (JSON.parse(row.record) as WebhookSinkRecord) : undefined;
  }

  async list(): Promise<WebhookSinkRecord[]> {
    return this.all.all().map((row) => JSON.parse(row.record) as WebhookSinkRecord);
  }

  async delete(id: string): Promise<boolean> {
    return this.remove.run(id).changes > 0;
  }
}

interface QueueRow {
  seq: number;
  payload: string;
  enqueued_at: number;
  attempts: number;
}

interface DeadRow extends QueueRow {
  failed_at: number;
  reason: string;
}

/**
 * The embedded queue: a table, so that what was not yet acknowledged is there after a restart. One
 * node reads it, so `take` is the head of the sink's rows in order and needs no claim.
 */
export class SqliteWebhookQueue implements WebhookQueue {
  private readonly insert;
  private readonly head;
  private readonly bump;
  private readonly drop;
  private readonly insertDead;
  private readonly trimDead;
  private readonly deadHead;
  private readonly allDead;
  private readonly clearDead;
  private readonly statsQuery;
  private readonly purgeQueue;
  private readonly enqueueTx;
  private readonly seqTx;
  private readonly buryTx;
  private readonly replayTx;
  private readonly purgeTx;

  constructor(
    db: SqliteDatabase,
    private readonly maxDeadLetters: number,
  ) {
    this.insert = db.prepare<[string, string, number]>('INSERT INTO webhook_queue (sink_id, payload, enqueued_at) VALUES (?, ?, ?)');
    this.head = db.prepare<[string, number], QueueRow>('SELECT seq, payload, enqueued_at, attempts FROM webhook_queue WHERE sink_id = ? ORDER BY seq LIMIT ?');
    this.bump = db.prepare<[number, string]>('UPDATE webhook_queue SET attempts = attempts + 1 WHERE seq = ? AND sink_id = ?');
    this.drop = db.prepare<[number, string]>('DELETE FROM webhook_queue WHERE seq = ? AND sink_id = ?');
    this.insertDead = db.prepare<[string, number, string, number, number, number, string]>(
      `INSERT INTO webhook_dead_letters (sink_id, queued_seq, payload, enqueued_at, attempts, failed_at, reason)
       SELECT ?, ?, ?, ?, ?, ?, ?`,
    );
    this.trimDead = db.prepare<[string, string, number]>(
      `DELETE FROM webhook_dead_letters WHERE sink_id = ? AND seq NOT IN
       (SELECT seq FROM webhook_dead_letters WHERE sink_id = ? ORDER BY seq DESC LIMIT ?)`,
    );
    this.deadHead = db.prepare<[string, number], DeadRow>(
      `SELECT queued_seq AS seq, payload, enqueued_at, attempts, failed_at, reason FROM webhook_dead_letters
       WHERE sink_id = ? ORDER BY seq LIMIT ?`,
    );
    this.allDead = db.prepare<[string], { payload: string }>('SELECT payload FROM webhook_dead_letters WHERE sink_id = ? ORDER BY seq');
    this.clearDead = db.prepare<[string]>('DELETE FROM webhook_dead_letters WHERE sink_id = ?');
    this.statsQuery = db.prepare<[string], { depth: number; oldest: number | null }>(
      'SELECT count(*) AS depth, min(enqueued_at) AS oldest FROM webhook_queue WHERE sink_id = ?',
    );
    this.purgeQueue = db.prepare<[string]>('DELETE FROM webhook_queue WHERE sink_id = ?');
    // Every event of one flush commits together: one fsync-free WAL append for many events.
    this.enqueueTx = db.transaction((entries: readonly EnqueueEntry[], at: number) => {
      for (const { sinkId, payload } of entries) this.insert.run(sinkId, payload, at);
    });
    this.seqTx = db.transaction((statement: 'bump' | 'drop', sinkId: string, seqs: readonly string[]) => {
      const run = statement === 'bump' ? this.bump : this.drop;
      for (const seq of seqs) run.run(Number(seq), sinkId);
    });
    // The letter is written and the queued row removed in one transaction: never both, never neither.
    this.buryTx = db.transaction((sinkId: string, items: readonly QueuedDelivery[], reason: string, at: number) => {
      for (const item of items) {
        if (this.drop.run(Number(item.seq), sinkId).changes === 0) continue;
        this.insertDead.run(sinkId, Number(item.seq), item.payload, item.enqueuedAt, item.attempts, at, reason);
      }
      this.trimDead.run(sinkId, sinkId, this.maxDeadLetters);
    });
    this.replayTx = db.transaction((sinkId: string, at: number): number => {
      const letters = this.allDead.all(sinkId);
      for (const letter of letters) this.insert.run(sinkId, letter.payload, at);
      this.clearDead.run(sinkId);
      return letters.length;
    });
    this.purgeTx = db.transaction((sinkId: string) => {
      this.purgeQueue.run(sinkId);
      this.clearDead.run(sinkId);
    });
  }

  async enqueue(entries: readonly EnqueueEntry[], at: number): Promise<void> {
    if (entries.length > 0) this.enqueueTx(entries, at);
  }

  async take(sinkId: string, max: number): Promise<QueuedDelivery[]> {
    return this.head.all(sinkId, max).map(queued);
  }

  async keep(): Promise<void> {
    // One node reads this queue: nobody else could take them.
  }

  async attempted(sinkId: string, seqs: readonly string[]): Promise<void> {
    this.seqTx('bump', sinkId, seqs);
  }

  async ack(sinkId: string, seqs: readonly string[]): Promise<void> {
    this.seqTx('drop', sinkId, seqs);
  }

  async bury(sinkId: string, items: readonly QueuedDelivery[], reason: string, at: number): Promise<void> {
    this.buryTx(sinkId, items, reason, at);
  }

  async deadLetters(sinkId: string, limit: number): Promise<DeadLetter[]> {
    return this.deadHead.all(sinkId, limit).map((row) => ({ ...queued(row), failedAt: row.failed_at, reason: row.reason }));
  }

  async replay(sinkId: string, at: number): Promise<number> {
    return this.replayTx(sinkId, at);
  }

  async stats(sinkId: string): Promise<QueueStats> {
    const row = this.statsQuery.get(sinkId);
    return { depth: row?.depth ?? 0, oldestAt: row?.oldest ?? undefined };
  }

  async purge(sinkId: string): Promise<void> {
    this.purgeTx(sinkId);
  }
}

export function sqliteWebhookStores(db: SqliteDatabase, maxDeadLetters: number): WebhookStores {
  return { sinks: new SqliteWebhookSinkStore(db), queue: new SqliteWebhookQueue(db, maxDeadLetters) };
}

function queued(row: QueueRow): QueuedDelivery {
  return { seq: String(row.seq), payload: row.payload, enqueuedAt: row.enqueued_at, attempts: row.attempts };
}
