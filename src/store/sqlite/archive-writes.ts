import type { ArchiveRetention, ArchivedType } from '../archive-store';
import type { SqliteDatabase } from './database';

/** One message in one owner's archive, as archive_messages holds it (migration 003-archive). */
export interface ArchiveRow {
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

/**
 * One archived message as the writer receives it: the message once, with the owners whose archives
 * get a row each (the stanza is not copied per owner on its way to the writer's thread).
 */
export interface ArchiveRecord {
  readonly conversation: string;
  readonly conv_hash: string;
  readonly seq: number;
  readonly from_jid: string;
  readonly to_jid: string;
  readonly type: ArchivedType;
  readonly origin_id: string | null;
  readonly body: string | null;
  readonly stanza: string;
  readonly ts: number;
  /** [owner, with] of each copy. */
  readonly copies: ReadonlyArray<readonly [string, string]>;
}

/**
 * Every write to the archive tables, each one transaction: the same code whether it runs on the
 * node's main thread or in the archive writer thread (src/store/sqlite/archive-writer.ts).
 */
export interface ArchiveWrites {
  /** The messages' rows, each conversation's last number, each owner's total and retention count. */
  writeBatch(records: readonly ArchiveRecord[]): void;
  /** Drops up to one batch of the oldest rows older than `cutoff` (ms); returns how many went. */
  pruneBatch(cutoff: number): number;
  /** Drops an owner's archive and its total. */
  deleteOwner(owner: string): void;
}

/** Rows the age sweep deletes per statement; the writer's thread runs other work between batches. */
const PRUNE_BATCH = 2000;

/** Prepares the archive's write statements on `db`. */
export function prepareArchiveWrites(db: SqliteDatabase, retention: ArchiveRetention): ArchiveWrites {
  const saveSeq = db.prepare<[string, number]>(
    `INSERT INTO archive_sequences (conversation, seq) VALUES (?, ?) ON CONFLICT (conversation) DO UPDATE SET seq = excluded.seq`,
  );
  // Positional parameters: binding from an object looks every name up, once per row.
  const insertRow = db.prepare<[string, string, string, number, string, string, string, string, string | null, string | null, string, number]>(
    `INSERT INTO archive_messages (owner, conversation, conv_hash, seq, with_jid, from_jid, to_jid, type, origin_id, body, stanza, ts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const addToTotals = db.prepare<[string, number]>(
    `INSERT INTO archive_totals (owner, messages) VALUES (?, ?) ON CONFLICT (owner) DO UPDATE SET messages = messages + excluded.messages`,
  );
  const totalQuery = db.prepare<[string], { messages: number }>('SELECT messages FROM archive_totals WHERE owner = ?');
  const dropOldest = db.prepare<[string, number]>(
    'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages WHERE owner = ? ORDER BY id LIMIT ?)',
  );
  const takeFromTotals = db.prepare<[number, string]>('UPDATE archive_totals SET messages = messages - ? WHERE owner = ?');
  // The oldest rows of the whole table are the oldest messages (ids grow with time): the age sweep
  // looks at those only, never scanning the table for a timestamp.
  const pruneOldest = db.prepare<[number, number], { owner: string }>(
    'DELETE FROM archive_messages WHERE id IN (SELECT id FROM archive_messages ORDER BY id LIMIT ?) AND ts < ? RETURNING owner',
  );
  const deleteRows = db.prepare<[string]>('DELETE FROM archive_messages WHERE owner = ?');
  const deleteTotals = db.prepare<[string]>('DELETE FROM archive_totals WHERE owner = ?');

  return {
    writeBatch: db.transaction((records: readonly ArchiveRecord[]): void => {
      const added = new Map<string, number>();
      // Each conversation's last number in the batch (records of a conversation come in order).
      const seqs = new Map<string, number>();
      for (const r of records) {
        for (const [owner, withJid] of r.copies) {
          insertRow.run(owner, r.conversation, r.conv_hash, r.seq, withJid, r.from_jid, r.to_jid, r.type, r.origin_id, r.body, r.stanza, r.ts);
          added.set(owner, (added.get(owner) ?? 0) + 1);
        }
        seqs.set(r.conversation, r.seq);
      }
      for (const [conversation, seq] of seqs) saveSeq.run(conversation, seq);
      const { maxPerOwner } = retention;
      for (const [owner, count] of added) {
        addToTotals.run(owner, count);
        if (maxPerOwner <= 0) continue;
        const over = (totalQuery.get(owner)?.messages ?? 0) - maxPerOwner;
        if (over > 0) {
          dropOldest.run(owner, over);
          takeFromTotals.run(over, owner);
        }
      }
    }),
    pruneBatch: db.transaction((cutoff: number): number => {
      const dropped = new Map<string, number>();
      for (const { owner } of pruneOldest.all(PRUNE_BATCH, cutoff)) dropped.set(owner, (dropped.get(owner) ?? 0) + 1);
      let total = 0;
      for (const [owner, count] of dropped) {
        takeFromTotals.run(count, owner);
        total += count;
      }
      return total;
    }),
    // The rows and their total go together, or the retention count would count messages no longer there.
    deleteOwner: db.transaction((owner: string): void => {
      deleteRows.run(owner);
      deleteTotals.run(owner);
    }),
  };
}
