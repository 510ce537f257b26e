import type { Statement } from 'better-sqlite3';
import { archiveIdOf } from '../archive-ids';
import type {
  ArchiveBounds,
  ArchivedMessage,
  ArchivedType,
  ArchiveEntry,
  ArchivePage,
  ArchiveQuery,
  ArchiveReceipt,
  ArchiveRetention,
  ArchiveStore,
  UnknownArchiveId,
} from '../archive-store';
import type { SqliteDatabase } from './database';

interface Row {
  owner: string;
  conversation: string;
  seq: number;
  archive_id: string;
  with_jid: string;
  from_jid: string;
  to_jid: string;
  type: ArchivedType;
  origin_id: string | null;
  body: string | null;
  stanza: string;
  ts: number;
}

interface Pending {
  readonly entry: ArchiveEntry;
  readonly resolve: (receipt: ArchiveReceipt) => void;
  readonly reject: (err: unknown) => void;
}

/** Rows the age sweep deletes per statement; the event loop runs between batches. */
const PRUNE_BATCH = 2000;

/**
 * The archive in the node's SQLite database (migration 003-archive). Appends made in one turn of the
 * event loop are written in one transaction, in the order they were made: a commit per message would
 * cap the chat rate near the disk's sync rate, and one transaction keeps each conversation's sequence
 * numbers in call order. The retention count is kept at each append; the age limit by prune().
 */
export class SqliteArchiveStore implements ArchiveStore {
  private pending: Pending[] = [];
  private readonly nextSeq;
  private readonly insertRow;
  private readonly addToTotals;
  private readonly totalQuery;
  private readonly dropOldest;
  private readonly takeFromTotals;
  private readonly positionQuery;
  private readonly sinceQuery;
  private readonly lastSeqQuery;
  private readonly firstQuery;
  private readonly lastQuery;
  private readonly pruneOldest;
  private readonly deleteRows;
  private readonly deleteTotals;
  private readonly writeBatch;
  private readonly pruneBatch;
  private readonly deleteOwnerTx;
  private readonly pages = new Map<string, Statement<Record<string, unknown>, Row>>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly retention: ArchiveRetention,
    private readonly now: () => Date = () => new Date(),
    private readonly defer: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {
    this.nextSeq = db.prepare<[string], { seq: number }>(
      `INSERT INTO archive_sequences (conversation, seq) VALUES (?, 1)
       ON CONFLICT (conversation) DO UPDATE SET seq = seq + 1 RETURNING seq`,
    );
    this.insertRow = db.prepare<[Row]>(
      `INSERT INTO archive_messages (owner, conversation, seq, archive_id, with_jid, from_jid, to_jid, type, origin_id, body, stanza, ts)
       VALUES (@owner, @conversation, @seq, @archive_id, @with_jid, @from_jid, @to_jid, @type, @origin_id, @body, @stanza, @ts)`,
    );
    this.addToTotals = db.prepare<[string]>(
      `INSERT INTO archive_totals (owner, messages) VALUES (?, 1) ON CONFLICT (owner) DO UPDATE SET messages = messages + 1`,
    );
    this.totalQuery = db.prepare<[string], { messages: number }>('SELECT messages FROM archive_totals WHERE owner = ?');
    this.dropOldest = db.prepare<[string, number]>(
      'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages WHERE owner = ? ORDER BY id LIMIT ?)',
    );
    this.takeFromTotals = db.prepare<[number, string]>('UPDATE archive_totals SET messages = messages - ? WHERE owner = ?');
    this.positionQuery = db.prepare<[string, string], { id: number }>('SELECT id FROM archive_messages WHERE owner = ? AND archive_id = ?');
    this.sinceQuery = db.prepare<[string, string, number, number], Row>(
      'SELECT * FROM archive_messages WHERE owner = ? AND conversation = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.lastSeqQuery = db.prepare<[string], { seq: number }>('SELECT seq FROM archive_sequences WHERE conversation = ?');
    this.firstQuery = db.prepare<[string], { archive_id: string; ts: number }>(
      'SELECT archive_id, ts FROM archive_messages WHERE owner = ? ORDER BY id LIMIT 1',
    );
    this.lastQuery = db.prepare<[string], { archive_id: string; ts: number }>(
      'SELECT archive_id, ts FROM archive_messages WHERE owner = ? ORDER BY id DESC LIMIT 1',
    );
    // The oldest rows of the whole table are the oldest messages (ids grow with time): the age sweep
    // looks at those only, never scanning the table for a timestamp.
    this.pruneOldest = db.prepare<[number, number], { owner: string }>(
      'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages ORDER BY id LIMIT ?) AND ts < ? RETURNING owner',
    );
    this.deleteRows = db.prepare<[string]>('DELETE FROM archive_messages WHERE owner = ?');
    this.deleteTotals = db.prepare<[string]>('DELETE FROM archive_totals WHERE owner = ?');
    this.writeBatch = db.transaction((batch: readonly Pending[]): ArchiveReceipt[] => batch.map(({ entry }) => this.write(entry)));
    this.pruneBatch = db.transaction((cutoff: number): number => {
      const dropped = new Map<string, number>();
      for (const { owner } of this.pruneOldest.all(PRUNE_BATCH, cutoff)) dropped.set(owner, (dropped.get(owner) ?? 0) + 1);
      let total = 0;
      for (const [owner, count] of dropped) {
        this.takeFromTotals.run(count, owner);
        total += count;
      }
      return total;
    });
    // The rows and their total go together, or the retention count would count messages no longer there.
    this.deleteOwnerTx = db.transaction((owner: string): void => {
      this.deleteRows.run(owner);
      this.deleteTotals.run(owner);
    });
  }

  append(entry: ArchiveEntry): Promise<ArchiveReceipt> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) this.defer(() => this.flush());
      this.pending.push({ entry, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let receipts: ArchiveReceipt[];
    try {
      receipts = this.writeBatch(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => item.resolve(receipts[i] as ArchiveReceipt));
  }

  /** One message, inside the batch's transaction: its sequence number, its rows, the retention count. */
  private write(entry: ArchiveEntry): ArchiveReceipt {
    const seq = (this.nextSeq.get(entry.conversation) as { seq: number }).seq;
    const archiveId = archiveIdOf(entry.conversation, seq);
    const ts = entry.ts ?? this.now();
    for (const copy of entry.copies) {
      this.insertRow.run({
        owner: copy.owner,
        conversation: entry.conversation,
        seq,
        archive_id: archiveId,
        with_jid: copy.with,
        from_jid: entry.from,
        to_jid: entry.to,
        type: entry.type,
        origin_id: entry.originId ?? null,
        body: entry.body ?? null,
        stanza: entry.stanza,
        ts: ts.getTime(),
      });
      this.addToTotals.run(copy.owner);
      const { maxPerOwner } = this.retention;
      if (maxPerOwner > 0) {
        const over = (this.totalQuery.get(copy.owner)?.messages ?? 0) - maxPerOwner;
        if (over > 0) {
          this.dropOldest.run(copy.owner, over);
          this.takeFromTotals.run(over, copy.owner);
        }
      }
    }
    return { conversation: entry.conversation, seq, archiveId, ts };
  }

  async query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId> {
    const params: Record<string, unknown> = { owner: query.owner, limit: query.limit + 1 };
    const where = ['owner = @owner'];
    for (const [name, id, op] of [
      ['afterId', query.afterId, '>'],
      ['beforeId', query.beforeId, '<'],
      ['after', query.after, '>'],
      ['before', query.before, '<'],
    ] as const) {
      if (!id) continue;
      const row = this.positionQuery.get(query.owner, id);
      if (!row) return { unknownId: id };
      params[name] = row.id;
      where.push(`id ${op} @${name}`);
    }
    if (query.with !== undefined) {
      params.with = query.with;
      where.push('with_jid = @with');
    }
    if (query.start) {
      params.start = query.start.getTime();
      where.push('ts >= @start');
    }
    if (query.end) {
      params.end = query.end.getTime();
      where.push('ts <= @end');
    }
    if (query.ids) {
      // json_each keeps the statement one shape whatever the number of ids.
      params.ids = JSON.stringify(query.ids);
      where.push('archive_id IN (SELECT value FROM json_each(@ids))');
    }
    const backward = query.before !== undefined;
    const sql = `SELECT * FROM archive_messages WHERE ${where.join(' AND ')} ORDER BY id ${backward ? 'DESC' : 'ASC'} LIMIT @limit`;
    const rows = this.page(sql).all(params);
    const complete = rows.length <= query.limit;
    const taken = rows.slice(0, query.limit);
    if (backward) taken.reverse();
    const filtered = query.with !== undefined || query.start || query.end || query.afterId || query.beforeId || query.ids;
    const count = !filtered ? (this.totalQuery.get(query.owner)?.messages ?? 0) : undefined;
    return { messages: taken.map(toMessage), complete, ...(count === undefined ? {} : { count }) };
  }

  /** A page statement, prepared once per shape of query. */
  private page(sql: string): Statement<Record<string, unknown>, Row> {
    let statement = this.pages.get(sql);
    if (!statement) {
      statement = this.db.prepare<Record<string, unknown>, Row>(sql);
      this.pages.set(sql, statement);
    }
    return statement;
  }

  async since(owner: string, conversation: string, afterSeq: number, limit: number): Promise<ArchivedMessage[]> {
    return this.sinceQuery.all(owner, conversation, afterSeq, limit).map(toMessage);
  }

  async lastSeq(conversation: string): Promise<number> {
    return this.lastSeqQuery.get(conversation)?.seq ?? 0;
  }

  async bounds(owner: string): Promise<ArchiveBounds> {
    const first = this.firstQuery.get(owner);
    const last = this.lastQuery.get(owner);
    return {
      ...(first ? { first: { archiveId: first.archive_id, ts: new Date(first.ts) } } : {}),
      ...(last ? { last: { archiveId: last.archive_id, ts: new Date(last.ts) } } : {}),
    };
  }

  async prune(now: Date): Promise<number> {
    if (this.retention.maxAgeMs <= 0) return 0;
    const cutoff = now.getTime() - this.retention.maxAgeMs;
    let total = 0;
    for (;;) {
      const dropped = this.pruneBatch(cutoff);
      total += dropped;
      if (dropped === 0) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async deleteOwner(owner: string): Promise<void> {
    this.deleteOwnerTx(owner);
  }
}

function toMessage(row: Row): ArchivedMessage {
  return {
    owner: row.owner,
    conversation: row.conversation,
    seq: row.seq,
    archiveId: row.archive_id,
    with: row.with_jid,
    from: row.from_jid,
    to: row.to_jid,
    type: row.type,
    stanza: row.stanza,
    ts: new Date(row.ts),
    ...(row.origin_id === null ? {} : { originId: row.origin_id }),
    ...(row.body === null ? {} : { body: row.body }),
  };
}
