import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveRetention } from '../../../src/store/archive-store';
import { openDatabase } from '../../../src/store/sqlite/database';
import { SqliteArchiveStore } from '../../../src/store/sqlite/sqlite-archive-store';
import { archiveStoreContract, type ArchiveInstance } from '../contract/archive-store.contract';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The archive over the database in `dir`, on a connection of its own (what a restarted node opens). */
function open(dir: string, retention: ArchiveRetention, now: () => Date): ArchiveInstance {
  const db = openDatabase(dir);
  return {
    archive: new SqliteArchiveStore(db, retention, now),
    another: async () => open(dir, retention, now),
    close: async () => {
      db.close();
    },
  };
}

archiveStoreContract({
  name: 'sqlite',
  fresh: async (retention, now) => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-archive-'));
    dirs.push(dir);
    return open(dir, retention, now);
  },
});
