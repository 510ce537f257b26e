import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrate';
import { MIGRATIONS } from './migrations';

/** The file under DATA_DIR that holds every durable record of a single node. */
export const DATABASE_FILE = 'gateway.sqlite';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating it and DATA_DIR when missing) the node's database and brings its schema up to date.
 * WAL lets logins read while a write commits; synchronous=NORMAL is durable across a process crash
 * (an OS crash may lose the last commits, never corrupt the file — https://sqlite.org/wal.html);
 * the busy timeout covers a second process (a migration, a backup) holding the write lock briefly.
 */
export function openDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
