import type { LeasedMessage, OfflineMessage, OfflineStore } from '../offline-store';
import type { SqliteDatabase } from './database';

interface Row {
  id: number;
  stanza: string;
  stored_at: string;
}

/** Offline messages (XEP-0160) in the node's SQLite database, bounded per user by count and by bytes, handed over under leases. */
export class SqliteOfflineStore implements OfflineStore {
  private readonly totalsQuery;
  private readonly insertMessage;
  private readonly addToTotals;
  private readonly freeQuery;
  private readonly leaseFree;
  private readonly deleteOne;
  private readonly releaseOne;
  private readonly takeFromTotals;
  private readonly deleteMessages;
  private readonly deleteTotals;
  private readonly everythingQuery;
  private readonly pushTx;
  private readonly leaseTx;
  private readonly settleTx;
  private readonly releaseTx;
  private readonly deleteUserTx;

  constructor(
    db: SqliteDatabase,
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.MAX_SAFE_INTEGER,
    /** The clock leases run on. */
    private readonly now: () => number = Date.now,
  ) {
    this.totalsQuery = db.prepare<[string], { messages: number; bytes: number }>('SELECT messages, bytes FROM offline_totals WHERE username = ?');
    this.insertMessage = db.prepare<[string, string, string]>('INSERT INTO offline_messages (username, stanza, stored_at) VALUES (?, ?, ?)');
    this.addToTotals = db.prepare<[{ user: string; size: number }]>(
      `INSERT INTO offline_totals (username, messages, bytes) VALUES (@user, 1, @size)
       ON CONFLICT (username) DO UPDATE SET messages = messages + 1, bytes = bytes + @size`,
    );
    this.freeQuery = db.prepare<[string, number], Row>(
      'SELECT id, stanza, stored_at FROM offline_messages WHERE username = ? AND leased_until <= ? ORDER BY id',
    );
    this.leaseFree = db.prepare<[number, string, number]>('UPDATE offline_messages SET leased_until = ? WHERE username = ? AND leased_until <= ?');
    this.deleteOne = db.prepare<[string, number], { stanza: string }>('DELETE FROM offline_messages WHERE username = ? AND id = ? RETURNING stanza');
    this.releaseOne = db.prepare<[string, number]>('UPDATE offline_messages SET leased_until = 0 WHERE username = ? AND id = ?');
    this.takeFromTotals = db.prepare<[number, number, string]>('UPDATE offline_totals SET messages = messages - ?, bytes = bytes - ? WHERE username = ?');
    this.deleteMessages = db.prepare<[string]>('DELETE FROM offline_messages WHERE username = ?');
    this.deleteTotals = db.prepare<[string]>('DELETE FROM offline_totals WHERE username = ? AND messages <= 0');
    this.everythingQuery = db.prepare<[], { total: number }>('SELECT coalesce(sum(messages), 0) AS total FROM offline_totals');
    const deleteAllTotals = db.prepare<[string]>('DELETE FROM offline_totals WHERE username = ?');
    // The limit check, the message and its totals commit together: no over-fill, no drift.
    this.pushTx = db.transaction((user: string, message: OfflineMessage): boolean => {
      const size = Buffer.byteLength(message.stanza);
      const totals = this.totalsQuery.get(user) ?? { messages: 0, bytes: 0 };
      if (totals.messages >= this.limitPerUser || totals.bytes + size > this.maxBytesPerUser) return false;
      this.insertMessage.run(user, message.stanza, message.storedAt.toISOString());
      this.addToTotals.run({ user, size });
      return true;
    });
    // Read and mark in one step, so two logins never both get the messages.
    this.leaseTx = db.transaction((user: string, now: number, until: number): LeasedMessage[] => {
      const rows = this.freeQuery.all(user, now);
      if (rows.length > 0) this.leaseFree.run(until, user, now);
      return rows.map((row) => ({ id: String(row.id), stanza: row.stanza, storedAt: new Date(row.stored_at) }));
    });
    // The messages go with their share of the totals, or the limits would count messages no longer there.
    this.settleTx = db.transaction((user: string, ids: readonly number[]): void => {
      let messages = 0;
      let bytes = 0;
      for (const id of ids) {
        const deleted = this.deleteOne.get(user, id);
        if (!deleted) continue;
        messages++;
        bytes += Buffer.byteLength(deleted.stanza);
      }
      if (messages === 0) return;
      this.takeFromTotals.run(messages, bytes, user);
      this.deleteTotals.run(user);
    });
    this.releaseTx = db.transaction((user: string, ids: readonly number[]): void => {
      for (const id of ids) this.releaseOne.run(user, id);
    });
    this.deleteUserTx = db.transaction((user: string): void => {
      this.deleteMessages.run(user);
      deleteAllTotals.run(user);
    });
  }

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    return this.pushTx(user, message);
  }

  async lease(user: string, leaseMs: number): Promise<LeasedMessage[]> {
    const now = this.now();
    return this.leaseTx(user, now, now + leaseMs);
  }

  async settle(user: string, ids: readonly string[]): Promise<void> {
    this.settleTx(user, rowIds(ids));
  }

  async release(user: string, ids: readonly string[]): Promise<void> {
    this.releaseTx(user, rowIds(ids));
  }

  async count(user: string): Promise<number> {
    return this.totalsQuery.get(user)?.messages ?? 0;
  }

  async deleteUser(user: string): Promise<void> {
    this.deleteUserTx(user);
  }

  /** Every stored message of every user (for the metrics). */
  get total(): number {
    return (this.everythingQuery.get() as { total: number }).total;
  }
}

/** The row ids among `ids` (anything else names no row of this store). */
function rowIds(ids: readonly string[]): number[] {
  return ids.filter((id) => /^[0-9]{1,15}$/.test(id)).map(Number);
}
