import type { Migration } from '../migrate';

/**
 * Offline messages are handed over under a lease and deleted only once their client has them
 * (src/store/offline-store.ts): each row gets the time its lease runs out (`leased_until`, epoch
 * milliseconds, 0 for none), and ids become AUTOINCREMENT so an id is never given to a newer
 * message: a settle that comes late (after the lease ran out and another login took the message)
 * must not delete a message stored since. SQLite cannot change a primary key in place: the table is
 * built again, rows and ids kept.
 */
export const offlineLeases: Migration = {
  version: 6,
  name: 'offline-leases',
  up: `
    CREATE TABLE offline_messages_leased (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL,
      stanza TEXT NOT NULL,
      stored_at TEXT NOT NULL,
      leased_until INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO offline_messages_leased (id, username, stanza, stored_at)
      SELECT id, username, stanza, stored_at FROM offline_messages ORDER BY id;
    DROP TABLE offline_messages;
    ALTER TABLE offline_messages_leased RENAME TO offline_messages;
    CREATE INDEX offline_messages_by_user ON offline_messages (username, id);
  `,
};
