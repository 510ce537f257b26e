import type { Statement } from 'better-sqlite3';
import { conversationHash, parseArchiveId } from '../archive-ids';
import type {
  ArchiveBounds,
  ArchivedMessage,
  ArchiveEntry,
  ArchivePage,
  ArchiveQuery,
  ArchiveReceipt,
  ArchiveRetention,
  ArchiveStore,
  UnknownArchiveId,
} from '../archive-store';
import { chatConversation } from '../archive-store';
import type { ArchiveWriter } from './archive-writer';
import { inThreadArchiveWriter } from './archive-writer';
import type { ArchiveRecord, ArchiveRow } from './archive-writes';
import type { SqliteDatabase } from './database';

type Row = ArchiveRow;

/** How the store writes: group commits, and what it tells of a batch it could not write. */
export interface SqliteArchiveOptions {
  /** Milliseconds appends wait for their group commit at most, while the writer is free (default 500). */
  readonly flushMs?: number;
  /** Rows that make a commit at once, before the timer (default 20,000). */
  readonly maxBatch?: number;
  /** A group commit failed: its rows are dropped (the messages were delivered). */
  readonly onWriteFailure?: (err: unknown, rows: number) => void;
  /** Schedules the next group commit; returns how to cancel it (default: an unref'd setTimeout). */
  readonly schedule?: (flush: () => void, ms: number) => () => void;
  /** Who runs the write transactions (default: this thread, at once; the node uses a writer thread). */
  readonly writer?: (db: SqliteDatabase, retention: ArchiveRetention) => ArchiveWriter;
}

const defaultSchedule = (flush: () => void, ms: number): (() => void) => {
  const timer = setTimeout(flush, ms);
  // A pending commit never keeps a stopping process alive: closing the stores flushes.
  timer.unref();
  return () => clearTimeout(timer);
};

/** Conversations whose last committed number is kept in memory. */
const COMMITTED_SEQS = 100_000;

/**
 * The archive in the node's SQLite database (migration 003-archive), written by one process (the
 * node that owns DATA_DIR).
 *
 * Group commit: an append takes the conversation's next sequence number in memory at once (from the
 * database's last, plus what is pending) and resolves, so the message is delivered with its archive id
 * without waiting for a disk; its rows are written with everything else appended within `flushMs`
 * (or `maxBatch` rows) in one transaction. Every row costs a page in each index per commit, whoever
 * it is for, so the cost of a row falls as batches grow (measured here: about 150 µs a row at 25
 * messages a commit, 40 µs at 2,000): one commit per message or per event-loop turn would spend most
 * of the chat rate's CPU rewriting the same index pages. While a batch is being written the next one
 * keeps growing instead of queueing behind it, so a busier archive writes bigger, cheaper batches.
 * The transactions run where the writer runs them: on this thread,
 * or (the node's default) in a thread of their own (src/store/sqlite/threaded-archive-writer.ts).
 * Every read (query, since, bounds) first waits for what was appended before it to be committed, so
 * what was appended is always seen; closing the stores flushes. What a process crash takes
 * is the last window of archive entries (the messages themselves were delivered), and their numbers
 * may be given again after the restart.
 *
 * The retention count is kept at each commit, per owner; the age limit by prune().
 */
export class SqliteArchiveStore implements ArchiveStore {
  private pending: ArchiveRecord[] = [];
  /** Rows the pending records make (a record has a row per copy). */
  private pendingRows = 0;
  /**
   * The last number given in each conversation whose rows are not committed yet (pending here or
   * in the writer's hands).
   */
  private readonly uncommittedSeqs = new Map<string, number>();
  /**
   * The last committed number of conversations seen lately, so that numbering a message reads no
   * database: this process is the archive's only writer (bounded; when full it starts again).
   */
  private readonly committedSeqs = new Map<string, number>();
  /** Group commits handed to the writer and not yet confirmed. */
  private readonly inFlight = new Set<Promise<void>>();
  /** The timer fired while a batch was being written: commit as soon as it is. */
  private commitWhenWritten = false;
  private cancelFlush: (() => void) | undefined;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly schedule: (flush: () => void, ms: number) => () => void;
  private readonly writer: ArchiveWriter;
  private readonly totalQuery;
  private readonly positionQuery;
  private readonly sinceQuery;
  private readonly lastSeqQuery;
  private readonly firstQuery;
  private readonly lastQuery;
  private readonly pages = new Map<string, Statement<Record<string, unknown>, Row>>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly retention: ArchiveRetention,
    private readonly now: () => Date = () => new Date(),
    private readonly options: SqliteArchiveOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 500;
    this.maxBatch = options.maxBatch ?? 20_000;
    this.schedule = options.schedule ?? defaultSchedule;
    this.writer = (options.writer ?? inThreadArchiveWriter)(db, retention);
    this.totalQuery = db.prepare<[string], { messages: number }>('SELECT messages FROM archive_totals WHERE owner = ?');
    this.positionQuery = db.prepare<[string, string, number], { id: number }>('SELECT id FROM archive_messages WHERE owner = ? AND conv_hash = ? AND seq = ?');
    this.sinceQuery = db.prepare<[string, string, number, string, number], Row>(
      'SELECT * FROM archive_messages WHERE owner = ? AND conv_hash = ? AND seq > ? AND conversation = ? ORDER BY seq LIMIT ?',
    );
    this.lastSeqQuery = db.prepare<[string], { seq: number }>('SELECT seq FROM archive_sequences WHERE conversation = ?');
    this.firstQuery = db.prepare<[string], Row>('SELECT * FROM archive_messages WHERE owner = ? ORDER BY id LIMIT 1');
    this.lastQuery = db.prepare<[string], Row>('SELECT * FROM archive_messages WHERE owner = ? ORDER BY id DESC LIMIT 1');
  }

  async append(entry: ArchiveEntry): Promise<ArchiveReceipt> {
    const { conversation } = entry;
    const seq = this.lastGiven(conversation) + 1;
    this.uncommittedSeqs.set(conversation, seq);
    const hash = conversationHash(conversation);
    const ts = entry.ts ?? this.now();
    this.pending.push({
      conversation,
      conv_hash: hash,
      seq,
      from_jid: entry.from,
      to_jid: entry.to,
      type: entry.type,
      origin_id: entry.originId ?? null,
      body: entry.body ?? null,
      stanza: entry.stanza,
      ts: ts.getTime(),
      copies: entry.copies.map((copy) => [copy.owner, copy.with] as const),
    });
    this.pendingRows += entry.copies.length;
    if (this.pendingRows >= this.maxBatch) this.commit();
    else this.cancelFlush ??= this.schedule(() => this.commit(), this.flushMs);
    return { conversation, seq, archiveId: `${hash}-${seq}`, ts };
  }

  /** Settles when everything appended so far is committed. */
  async flush(): Promise<void> {
    this.commit(true);
    // Those handed over until now; later batches are not waited for.
    await Promise.all([...this.inFlight]);
  }

  /** Flushes, then lets the writer go (its thread, if it has one). */
  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }

  /**
   * Hands what is pending to the writer as one transaction; a failed batch is reported and dropped.
   * Unless `now` (a read or close waits for it), a batch waits while another is being written.
   */
  private commit(now = false): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.pending.length === 0) return;
    if (!now && this.inFlight.size > 0) {
      this.commitWhenWritten = true;
      return;
    }
    this.commitWhenWritten = false;
    const records = this.pending;
    const rows = this.pendingRows;
    this.pending = [];
    this.pendingRows = 0;
    const done = this.writer
      .write(records)
      .catch((err: unknown) => this.options.onWriteFailure?.(err, rows))
      .finally(() => {
        this.inFlight.delete(done);
        this.committed(records);
        if (this.commitWhenWritten && this.inFlight.size === 0) this.commit();
      });
    this.inFlight.add(done);
  }

  /** The last number given in a conversation: uncommitted, committed and seen lately, or the database's. */
  private lastGiven(conversation: string): number {
    return this.uncommittedSeqs.get(conversation) ?? this.committedSeqs.get(conversation) ?? this.lastSeqQuery.get(conversation)?.seq ?? 0;
  }

  /**
   * A batch is committed (or given up, its numbers spent all the same): its conversations' numbers
   * move to the committed cache unless a later append has moved the conversation on since.
   */
  private committed(records: readonly ArchiveRecord[]): void {
    for (const { conversation, seq } of records) {
      if (this.uncommittedSeqs.get(conversation) !== seq) continue;
      this.uncommittedSeqs.delete(conversation);
      if (this.committedSeqs.size >= COMMITTED_SEQS) this.committedSeqs.clear();
      this.committedSeqs.set(conversation, seq);
    }
  }

  async query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId> {
    await this.flush();
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
    await this.flush();
    return this.sinceQuery.all(owner, conversationHash(conversation), afterSeq, conversation, limit).map(toMessage);
  }

  async lastSeq(conversation: string): Promise<number> {
    return this.lastGiven(conversation);
  }

  async bounds(owner: string): Promise<ArchiveBounds> {
    await this.flush();
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
    await this.flush();
    let total = 0;
    for (;;) {
      const dropped = await this.writer.prune(cutoff);
      total += dropped;
      if (dropped === 0) return total;
      // Other work runs between batches (on this thread when the writer is this thread).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async deleteOwner(owner: string): Promise<void> {
    await this.flush();
    await this.writer.deleteOwner(owner);
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
