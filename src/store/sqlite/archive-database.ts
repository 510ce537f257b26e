import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteDatabase } from './database';
import { migrate, type Migration } from './migrate';
import { archive } from './migrations/003-archive';

/** The file under DATA_DIR that holds the message archives (XEP-0313) of a single node. */
export const ARCHIVE_DATABASE_FILE = 'archive.sqlite';

/** The archive file's own schema: the archive tables as migration 003 defines them. */
const ARCHIVE_MIGRATIONS: readonly Migration[] = [{ ...archive, version: 1 }];

/**
 * Opens the archive's database, a file of its own beside the node's (src/store/sqlite/database.ts).
 * The archive is the busiest writer by far (two rows per chat message), and its group commits run in
 * a thread of their own: in the same file, every other write of the node (offline messages, the
 * webhook queue, rooms) would wait for the archive's commits on SQLite's single write lock, with the
 * event loop blocked in SQLite's busy wait. A file of its own has a lock and a WAL of its own.
 *
 * Archives written by an earlier release into the node's file move here once, when this file is new.
 */
export function openArchiveDatabase(dataDir: string, main: SqliteDatabase): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, ARCHIVE_DATABASE_FILE);
  const isNew = !existsSync(file);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, ARCHIVE_MIGRATIONS);
    if (isNew) moveEarlierArchives(main, db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

const ARCHIVE_TABLES = ['archive_messages', 'archive_sequences', 'archive_totals'] as const;

/** Copies the archive tables of the node's file into the archive's, then empties them there. */
function moveEarlierArchives(main: SqliteDatabase, archiveDb: SqliteDatabase): void {
  const held = main.prepare<[], { n: number }>('SELECT (SELECT count(*) FROM archive_messages) + (SELECT count(*) FROM archive_sequences) AS n').get();
  if (!held || held.n === 0) return;
  archiveDb.prepare('ATTACH DATABASE ? AS earlier').run(main.name);
  try {
    archiveDb.transaction(() => {
      for (const table of ARCHIVE_TABLES) archiveDb.exec(`INSERT INTO main.${table} SELECT * FROM earlier.${table}`);
    })();
  } finally {
    archiveDb.exec('DETACH DATABASE earlier');
  }
  main.transaction(() => {
    for (const table of ARCHIVE_TABLES) main.exec(`DELETE FROM ${table}`);
  })();
}
