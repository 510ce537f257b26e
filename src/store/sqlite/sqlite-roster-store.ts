import type { PendingSubscription, Roster, RosterItem, RosterStore, Subscription } from '../roster-store';
import type { SqliteDatabase } from './database';

interface ItemRow {
  contact: string;
  name: string | null;
  subscription: Subscription;
  ask: number;
  approved: number;
  groups: string;
}

const toItem = (row: ItemRow): RosterItem => ({
  jid: row.contact,
  ...(row.name === null ? {} : { name: row.name }),
  subscription: row.subscription,
  ask: row.ask === 1,
  approved: row.approved === 1,
  groups: JSON.parse(row.groups) as string[],
});

const ITEM_COLUMNS = 'contact, name, subscription, ask, approved, groups';

/** Rosters (RFC 6121 §2) and pending inbound subscriptions (§3.1.3) in the node's SQLite database. */
export class SqliteRosterStore implements RosterStore {
  private readonly versionQuery;
  private readonly itemsQuery;
  private readonly itemQuery;
  private readonly sizeQuery;
  private readonly upsertItem;
  private readonly deleteItem;
  private readonly bumpVersion;
  private readonly pendingQuery;
  private readonly upsertPending;
  private readonly deletePending;
  private readonly rosterTx;
  private readonly setItemTx;
  private readonly removeItemTx;
  private readonly deleteUserTx;

  constructor(db: SqliteDatabase) {
    this.versionQuery = db.prepare<[string], { version: number }>('SELECT version FROM roster_versions WHERE username = ?');
    this.itemsQuery = db.prepare<[string], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM roster_items WHERE username = ?`);
    this.itemQuery = db.prepare<[string, string], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM roster_items WHERE username = ? AND contact = ?`);
    this.sizeQuery = db.prepare<[string], { size: number }>('SELECT count(*) AS size FROM roster_items WHERE username = ?');
    this.upsertItem = db.prepare<[string, string, string | null, string, number, number, string]>(
      `INSERT INTO roster_items (username, ${ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (username, contact) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
         ask = excluded.ask, approved = excluded.approved, groups = excluded.groups`,
    );
    this.deleteItem = db.prepare<[string, string]>('DELETE FROM roster_items WHERE username = ? AND contact = ?');
    this.bumpVersion = db.prepare<[string], { version: number }>(
      `INSERT INTO roster_versions (username, version) VALUES (?, 1)
       ON CONFLICT (username) DO UPDATE SET version = version + 1 RETURNING version`,
    );
    this.pendingQuery = db.prepare<[string], { contact: string; stanza: string }>('SELECT contact, stanza FROM roster_pending_in WHERE username = ?');
    this.upsertPending = db.prepare<[string, string, string]>(
      'INSERT INTO roster_pending_in (username, contact, stanza) VALUES (?, ?, ?) ON CONFLICT (username, contact) DO UPDATE SET stanza = excluded.stanza',
    );
    this.deletePending = db.prepare<[string, string]>('DELETE FROM roster_pending_in WHERE username = ? AND contact = ?');
    // The items and the version a client caches must come from one snapshot (RFC 6121 §2.6).
    this.rosterTx = db.transaction((user: string): Roster => ({ version: this.version(user), items: this.itemsQuery.all(user).map(toItem) }));
    // An item changes together with its version, or neither does.
    this.setItemTx = db.transaction((user: string, item: RosterItem): number => {
      this.upsertItem.run(user, item.jid, item.name ?? null, item.subscription, item.ask ? 1 : 0, item.approved ? 1 : 0, JSON.stringify(item.groups));
      return (this.bumpVersion.get(user) as { version: number }).version;
    });
    this.removeItemTx = db.transaction((user: string, contact: string): number => {
      if (this.deleteItem.run(user, contact).changes === 0) return this.version(user);
      return (this.bumpVersion.get(user) as { version: number }).version;
    });
    const deleteItems = db.prepare<[string]>('DELETE FROM roster_items WHERE username = ?');
    const deleteAllPending = db.prepare<[string]>('DELETE FROM roster_pending_in WHERE username = ?');
    // Only an existing version moves on: a user who never had a roster keeps none (see RosterStore).
    const advanceVersion = db.prepare<[string]>('UPDATE roster_versions SET version = version + 1 WHERE username = ?');
    this.deleteUserTx = db.transaction((user: string): void => {
      deleteItems.run(user);
      deleteAllPending.run(user);
      advanceVersion.run(user);
    });
  }

  private version(user: string): number {
    return this.versionQuery.get(user)?.version ?? 0;
  }

  async roster(user: string): Promise<Roster> {
    return this.rosterTx(user);
  }

  async item(user: string, contact: string): Promise<RosterItem | undefined> {
    const row = this.itemQuery.get(user, contact);
    return row ? toItem(row) : undefined;
  }

  async size(user: string): Promise<number> {
    return (this.sizeQuery.get(user) as { size: number }).size;
  }

  async setItem(user: string, item: RosterItem): Promise<number> {
    return this.setItemTx(user, item);
  }

  async removeItem(user: string, contact: string): Promise<number> {
    return this.removeItemTx(user, contact);
  }

  async pendingIn(user: string): Promise<readonly PendingSubscription[]> {
    return this.pendingQuery.all(user).map((row) => ({ from: row.contact, stanza: row.stanza }));
  }

  async addPendingIn(user: string, subscription: PendingSubscription): Promise<void> {
    this.upsertPending.run(user, subscription.from, subscription.stanza);
  }

  async removePendingIn(user: string, from: string): Promise<boolean> {
    return this.deletePending.run(user, from).changes > 0;
  }

  async deleteUser(user: string): Promise<void> {
    this.deleteUserTx(user);
  }
}
