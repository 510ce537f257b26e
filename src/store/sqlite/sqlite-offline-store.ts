import type { OfflineMessage, OfflineStore } from '../offline-store';
import type { SqliteDatabase } from './database';

/** Offline messages (XEP-0160) in the node's SQLite database, bounded per user by count and by bytes. */
export class SqliteOfflineStore implements OfflineStore {
  private readonly totalsQuery;
  private readonly insertMessage;
  private readonly addToTotals;
  private readonly messagesQuery;
  private readonly deleteMessages;
  private readonly deleteTotals;
  private readonly everythingQuery;
  private readonly pushTx;
  private readonly takeTx;
  private readonly deleteUserTx;

  constructor(
    db: SqliteDatabase,
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.MAX_SAFE_INTEGER,
  ) {
    this.totalsQuery = db.prepare<[string], { messages: number; bytes: number }>('SELECT messages, bytes FROM offline_totals WHERE username = ?');
    this.insertMessage = db.prepare<[string, string, string]>('INSERT INTO offline_messages (username, stanza, stored_at) VALUES (?, ?, ?)');
    this.addToTotals = db.prepare<[{ user: string; size: number }]>(
      `INSERT INTO offline_totals (username, messages, bytes) VALUES (@user, 1, @size)
       ON CONFLICT (username) DO UPDATE SET messages = messages + 1, bytes = bytes + @size`,
    );
    this.messagesQuery = db.prepare<[string], { stanza: string; stored_at: string }>(
      'SELECT stanza, stored_at FROM offline_messages WHERE username = ? ORDER BY id',
    );
    this.deleteMessages = db.prepare<[string]>('DELETE FROM offline_messages WHERE username = ?');
    this.deleteTotals = db.prepare<[string]>('DELETE FROM offline_totals WHERE username = ?');
    this.everythingQuery = db.prepare<[], { total: number }>('SELECT coalesce(sum(messages), 0) AS total FROM offline_totals');
    // The limit check, the message and its totals commit together: no over-fill, no drift.
    this.pushTx = db.transaction((user: string, message: OfflineMessage): boolean => {
      const size = Buffer.byteLength(message.stanza);
      const totals = this.totalsQuery.get(user) ?? { messages: 0, bytes: 0 };
      if (totals.messages >= this.limitPerUser || totals.bytes + size > this.maxBytesPerUser) return false;
      this.insertMessage.run(user, message.stanza, message.storedAt.toISOString());
      this.addToTotals.run({ user, size });
      return true;
    });
    // Read and delete in one step, so two logins never both get the messages.
    this.takeTx = db.transaction((user: string): OfflineMessage[] => {
      const rows = this.messagesQuery.all(user);
      if (rows.length === 0) return [];
      this.deleteMessages.run(user);
      this.deleteTotals.run(user);
      return rows.map((row) => ({ stanza: row.stanza, storedAt: new Date(row.stored_at) }));
    });
    // The messages and their totals go together, or the limits would count messages no longer there.
    this.deleteUserTx = db.transaction((user: string): void => {
      this.deleteMessages.run(user);
      this.deleteTotals.run(user);
    });
  }

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    return this.pushTx(user, message);
  }

  async take(user: string): Promise<OfflineMessage[]> {
    return this.takeTx(user);
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
