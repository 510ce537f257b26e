import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthCache } from '../../../src/store/auth-cache';
import { openDatabase } from '../../../src/store/sqlite/database';
import { SqliteAccountStore } from '../../../src/store/sqlite/sqlite-account-store';
import { SqliteOfflineStore } from '../../../src/store/sqlite/sqlite-offline-store';
import { SqliteRosterStore } from '../../../src/store/sqlite/sqlite-roster-store';
import { SqliteXmlStore } from '../../../src/store/sqlite/sqlite-xml-store';
import { storeContracts, type StoreSet } from '../contract';
import { DEFAULT_OFFLINE, ITERATIONS, type Clock, type OfflineLimits } from '../contract/backend';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Stores over the database in `dir`, on a connection of their own (what a restarted node opens). */
function open(dir: string, offline: OfflineLimits, clock: Clock): StoreSet {
  const db = openDatabase(dir);
  return {
    accounts: new SqliteAccountStore(db, ITERATIONS, new AuthCache(100, 60_000)),
    rosters: new SqliteRosterStore(db),
    offline: new SqliteOfflineStore(db, offline.perUser, offline.bytesPerUser, clock),
    documents: new SqliteXmlStore(db),
    another: async () => open(dir, offline, clock),
    close: async () => {
      db.close();
    },
  };
}

storeContracts({
  name: 'sqlite',
  fresh: async (offline = DEFAULT_OFFLINE, clock = Date.now) => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-store-'));
    dirs.push(dir);
    return open(dir, offline, clock);
  },
});
