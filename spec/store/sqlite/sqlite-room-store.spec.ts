import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/database';
import { SqliteRoomStore } from '../../../src/store/sqlite/sqlite-room-store';
import { roomStoreContract } from '../contract/room-store.contract';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

roomStoreContract({
  name: 'sqlite',
  fresh: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-rooms-'));
    dirs.push(dir);
    const databases: SqliteDatabase[] = [openDatabase(dir)];
    return {
      rooms: new SqliteRoomStore(databases[0] as SqliteDatabase),
      // A restarted node: its own connection to the same file.
      another: async () => {
        const db = openDatabase(dir);
        databases.push(db);
        return new SqliteRoomStore(db);
      },
      sharesOccupants: false,
      close: async () => {
        for (const db of databases) db.close();
      },
    };
  },
});
