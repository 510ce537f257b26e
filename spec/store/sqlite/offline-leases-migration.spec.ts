import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openDatabase } from '../../../src/store/sqlite/database';
import { migrate } from '../../../src/store/sqlite/migrate';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations';
import { SqliteOfflineStore } from '../../../src/store/sqlite/sqlite-offline-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offline-leases-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** XEP-0160 storage written by a release before leases, then opened by this one. */
describe('migration 006: offline messages kept by an earlier release', () => {
  it('are kept with their ids and no lease, and ids are never given again', async () => {
    const before = new Database(join(dir, DATABASE_FILE));
    migrate(
      before,
      MIGRATIONS.filter((m) => m.version < 6),
    );
    const insert = before.prepare('INSERT INTO offline_messages (id, username, stanza, stored_at) VALUES (?, ?, ?, ?)');
    insert.run(7, 'bob', '<old-1/>', '2026-01-01T00:00:00.000Z');
    insert.run(9, 'bob', '<old-2/>', '2026-01-01T00:00:01.000Z');
    before.prepare("INSERT INTO offline_totals (username, messages, bytes) VALUES ('bob', 2, 16)").run();
    before.close();

    const db = openDatabase(dir);
    try {
      const offline = new SqliteOfflineStore(db, 100, 1_000_000);
      const leased = await offline.lease('bob', 60_000);
      expect(leased.map((m) => [m.id, m.stanza, m.storedAt.toISOString()])).toEqual([
        ['7', '<old-1/>', '2026-01-01T00:00:00.000Z'],
        ['9', '<old-2/>', '2026-01-01T00:00:01.000Z'],
      ]);
      await offline.settle(
        'bob',
        leased.map((m) => m.id),
      );
      expect(await offline.count('bob')).toBe(0);
      // The table is empty: without AUTOINCREMENT the next row would take id 1 or 10 again.
      await offline.push('bob', { stanza: '<new/>', storedAt: new Date() });
      const [fresh] = await offline.lease('bob', 60_000);
      expect(Number(fresh?.id)).toBeGreaterThan(9);
    } finally {
      db.close();
    }
  });
});
