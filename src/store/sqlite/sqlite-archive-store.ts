import type { Statement } from 'better-sqlite3';
import { conversationHash, parseArchiveId } from '../archive-ids';
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
import { chatConversation } from '../archive-store';
import type { SqliteDatabase } from './database';

interface Row {
  owner: string;
  conversation: string;
  conv_hash: string;
  seq: number;
  with_jid: string;
  from_jid: string;
  to_jid: string;
  type: ArchivedType;
  origin_id: string | null;
  body: string | null;
  stanza: string;
  ts: number;
}

/** How the store writes: group commits, and what it tells of a batch it could not write. */
export interface SqliteArchiveOptions {
  /** Milliseconds appends wait for their group commit at most (default 50). */
  readonly flushMs?: number;
  /** Rows that make a commit at once, before the timer (default 2,000). */
  readonly maxBatch?: number;
  /** A group commit failed: its rows are dropped (the messages were delivered). */
  readonly onWriteFailure?: (err: unknown, rows: number) => void;
  /** Schedules the next group commit; returns how to cancel it (default: an unref'd setTimeout). */
  readonly schedule?: (flush: () => void, ms: number) => () => void;
}

const defaultSchedule = (flush: () => void, ms: number): (() => void) => {
  const timer = setTimeout(flush, ms);
  // A pending commit never keeps a stopping process alive: closing the stores flushes.
  timer.unref();
  return () => clearTimeout(timer);
};

/** Rows the age sweep deletes per statement; the event loop runs between batches. */
const PRUNE_BATCH = 2000;

/**
 * The archive in the node's SQLite database (migration 003-archive), written by one process (the
 * node that owns DATA_DIR).
 *
 * Group commit: an append takes the conversation's next sequence number in memory at once (from the
 * database's last, plus what is pending) and resolves, so the message is delivered with its archive id
 * without waiting for a disk; its rows are written with everything else appended within `flushMs`
 * (or `maxBatch` rows) in one transaction. Every row costs a page in each index per commit, whoever
 * it is for: one commit per message or per event-loop turn would spend most of the chat rate's CPU
 * rewriting the same index pages. Every read (query, since, bounds, lastSeq) commits what is pending
 * first, so what was appended is always seen; closing the stores flushes. What a process crash takes
 * is the last window of archive entries (the messages themselves were delivered), and their numbers
 * may be given again after the restart.
 *
 * The retention count is kept at each commit, per owner; the age limit by prune().
 */
export class SqliteArchiveStore implements ArchiveStore {
  private pending: Row[] = [];
  /** The last number given in each conversation with rows still pending (the database has the rest). */
  private readonly pendingSeqs = new Map<string, number>();
  private cancelFlush: (() => void) | undefined;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly schedule: (flush: () => void, ms: number) => () => void;
  private readonly saveSeq;
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
    private readonly options: SqliteArchiveOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 50;
    this.maxBatch = options.maxBatch ?? 2000;
    this.schedule = options.schedule ?? defaultSchedule;
    this.saveSeq = db.prepare<[string, number]>(
      `INSERT INTO archive_sequences (conversation, seq) VALUES (?, ?) ON CONFLICT (conversation) DO UPDATE SET seq = excluded.seq`,
    );
    this.insertRow = db.prepare<[Row]>(
      `INSERT INTO archive_messages (owner, conversation, conv_hash, seq, with_jid, from_jid, to_jid, type, origin_id, body, stanza, ts)
       VALUES (@owner, @conversation, @conv_hash, @seq, @with_jid, @from_jid, @to_jid, @type, @origin_id, @body, @stanza, @ts)`,
    );
    this.addToTotals = db.prepare<[string, number]>(
      `INSERT INTO archive_totals (owner, messages) VALUES (?, ?) ON CONFLICT (owner) DO UPDATE SET messages = messages + excluded.messages`,
    );
    this.totalQuery = db.prepare<[string], { messages: number }>('SELECT messages FROM archive_totals WHERE owner = ?');
    this.dropOldest = db.prepare<[string, number]>(
      'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages WHERE owner = ? ORDER BY id LIMIT ?)',
    );
    this.takeFromTotals = db.prepare<[number, string]>('UPDATE archive_totals SET messages = messages - ? WHERE owner = ?');
    this.positionQuery = db.prepare<[string, string, number], { id: number }>('SELECT id FROM archive_messages WHERE owner = ? AND conv_hash = ? AND seq = ?');
    this.sinceQuery = db.prepare<[string, string, number, string, number], Row>(
      'SELECT * FROM archive_messages WHERE owner = ? AND conv_hash = ? AND seq > ? AND conversation = ? ORDER BY seq LIMIT ?',
    );
    this.lastSeqQuery = db.prepare<[string], { seq: number }>('SELECT seq FROM archive_sequences WHERE conversation = ?');
    this.firstQuery = db.prepare<[string], Row>('SELECT * FROM archive_messages WHERE owner = ? ORDER BY id LIMIT 1');
    this.lastQuery = db.prepare<[string], Row>('SELECT * FROM archive_messages WHERE owner = ? ORDER BY id DESC LIMIT 1');
    // The oldest rows of the whole table are the oldest messages (ids grow with time): the age sweep
    // looks at those only, never scanning the table for a timestamp.
    this.pruneOldest = db.prepare<[number, number], { owner: string }>(
      'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages ORDER BY id LIMIT ?) AND ts < ? RETURNING owner',
    );
    this.deleteRows = db.prepare<[string]>('DELETE FROM archive_messages WHERE owner = ?');
    this.deleteTotals = db.prepare<[string]>('DELETE FROM archive_totals WHERE owner = ?');
    this.writeBatch = db.transaction((rows: readonly Row[], seqs: ReadonlyMap<string, number>): void => this.write(rows, seqs));
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

  async append(entry: ArchiveEntry): Promise<ArchiveReceipt> {
    const { conversation } = entry;
    const seq = (this.pendingSeqs.get(conversation) ?? this.lastSeqQuery.get(conversation)?.seq ?? 0) + 1;
    this.pendingSeqs.set(conversation, seq);
    const hash = conversationHash(conversation);
    const ts = entry.ts ?? this.now();
    for (const copy of entry.copies) {
      this.pending.push({
        owner: copy.owner,
        conversation,
        conv_hash: hash,
        seq,
        with_jid: copy.with,
        from_jid: entry.from,
        to_jid: entry.to,
        type: entry.type,
        origin_id: entry.originId ?? null,
        body: entry.body ?? null,
        stanza: entry.stanza,
        ts: ts.getTime(),
      });
    }
    if (this.pending.length >= this.maxBatch) this.commit();
    else this.cancelFlush ??= this.schedule(() => this.commit(), this.flushMs);
    return { conversation, seq, archiveId: `${hash}-${seq}`, ts };
  }

  async flush(): Promise<void> {
    this.commit();
  }

  /** Writes what is pending in one transaction; a failed batch is reported and dropped. */
  private commit(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    const seqs = new Map(this.pendingSeqs);
    this.pending = [];
    this.pendingSeqs.clear();
    try {
      this.writeBatch(rows, seqs);
    } catch (err) {
      this.options.onWriteFailure?.(err, rows.length);
    }
  }

  /** Inside the batch's transaction: the rows, each conversation's last number, each owner's total and retention count. */
  private write(rows: readonly Row[], seqs: ReadonlyMap<string, number>): void {
    const added = new Map<string, number>();
    for (const row of rows) {
      this.insertRow.run(row);
      added.set(row.owner, (added.get(row.owner) ?? 0) + 1);
    }
    for (const [conversation, seq] of seqs) this.saveSeq.run(conversation, seq);
    const { maxPerOwner } = this.retention;
    for (const [owner, count] of added) {
      this.addToTotals.run(owner, count);
      if (maxPerOwner <= 0) continue;
      const over = (this.totalQuery.get(owner)?.messages ?? 0) - maxPerOwner;
      if (over > 0) {
        this.dropOldest.run(owner, over);
        this.takeFromTotals.run(over, owner);
      }
    }
  }

  async query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId> {
    this.commit();
    const params: Record<string, unknown> = { owner: query.owner, limit: query.limit + 1 };
    const where = ['owner = @owner'];
    // A user's chats with one contact are one conversation: read through its index in seq order, which
    // is its archive order. Anything else (a room's occupant) is a filter over the owner's archive.
    const conversation = query.with !== undefined && !query.with.includes('/') ? conversationHash(chatConversation(query.owner, query.with)) : undefined;
    if (conversation !== undefined) {
      params.conversation = conversation;
      where.push('conv_hash = @conversation');
    }
    for (const [name, id, op] of [
      ['afterId', query.afterId, '>'],
      ['beforeId', query.beforeId, '<'],
      ['after', query.after, '>'],
      ['before', query.before, '<'],
    ] as const) {
      if (!id) continue;
      const parsed = parseArchiveId(id);
      const row = parsed && this.positionQuery.get(query.owner, parsed.hash, parsed.seq);
      if (!parsed || !row) return { unknownId: id };
      // Reading one conversation, a bound in it is a seq bound (a range of its index); any other is a place.
      const bySeq = conversation !== undefined && parsed.hash === conversation;
      params[name] = bySeq ? parsed.seq : row.id;
      where.push(`${bySeq ? 'seq' : 'id'} ${op} @${name}`);
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
      where.push("conv_hash || '-' || seq IN (SELECT value FROM json_each(@ids))");
    }
    const backward = query.before !== undefined;
    const order = conversation !== undefined ? 'seq' : 'id';
    const sql = `SELECT * FROM archive_messages WHERE ${where.join(' AND ')} ORDER BY ${order} ${backward ? 'DESC' : 'ASC'} LIMIT @limit`;
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
    this.commit();
    return this.sinceQuery.all(owner, conversationHash(conversation), afterSeq, conversation, limit).map(toMessage);
  }

  async lastSeq(conversation: string): Promise<number> {
    const pending = this.pendingSeqs.get(conversation);
    if (pending !== undefined) return pending;
    return this.lastSeqQuery.get(conversation)?.seq ?? 0;
  }

  async bounds(owner: string): Promise<ArchiveBounds> {
    this.commit();
    const first = this.firstQuery.get(owner);
    const last = this.lastQuery.get(owner);
    return {
      ...(first ? { first: { archiveId: archiveIdOfRow(first), ts: new Date(first.ts) } } : {}),
      ...(last ? { last: { archiveId: archiveIdOfRow(last), ts: new Date(last.ts) } } : {}),
    };
  }

  async prune(now: Date): Promise<number> {
    if (this.retention.maxAgeMs <= 0) return 0;
    const cutoff = now.getTime() - this.retention.maxAgeMs;
    this.commit();
    let total = 0;
    for (;;) {
      const dropped = this.pruneBatch(cutoff);
      total += dropped;
      if (dropped === 0) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async deleteOwner(owner: string): Promise<void> {
    this.commit();
    this.deleteOwnerTx(owner);
  }
}

function archiveIdOfRow(row: Row): string {
  return `${row.conv_hash}-${row.seq}`;
}

function toMessage(row: Row): ArchivedMessage {
  return {
    owner: row.owner,
    conversation: row.conversation,
    seq: row.seq,
    archiveId: archiveIdOfRow(row),
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
