import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/observability/logger';
import { createStores, type Stores } from '../../../src/store/create-stores';
import { DEFAULT_ROOM_CONFIG } from '../../../src/store/room-store';
import { DATABASE_FILE } from '../../../src/store/sqlite/database';

let dir: string;
let stores: Stores;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-removal-'));
  stores = await createStores(loadConfig({ DATA_DIR: dir, STORAGE: 'sqlite', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
});
afterEach(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Something in every per-user table: credentials, a roster item and version, a pending request, an offline message, documents. */
async function leaveData(user: string): Promise<void> {
  await stores.accounts.create(user, 'secret');
  await stores.rosters.setItem(user, { jid: 'zoe@d', subscription: 'both', ask: false, approved: false, groups: ['Friends'] });
  await stores.rosters.addPendingIn(user, { from: 'carol@d', stanza: '<presence type="subscribe"/>' });
  await stores.offline.push(user, { stanza: '<message><body>hi</body></message>', storedAt: new Date() });
  await stores.documents.set(user, 'vcard', '<vCard xmlns="vcard-temp"/>');
  await stores.documents.set(user, 'private storage:bookmarks', '<storage xmlns="storage:bookmarks"/>');
}

/** The rows each table keyed by username holds for `user`, read from the file as another process would. */
function rowsOf(user: string): Record<string, number> {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    const rows: Record<string, number> = {};
    for (const { name } of tables) {
      const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`).all();
      if (!columns.some((column) => column.name === 'username')) continue;
      const count = (db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM "${name}" WHERE username = ?`).get(user) as { n: number }).n;
      if (count > 0) rows[name] = count;
    }
    return rows;
  } finally {
    db.close();
  }
}

describe('removing an account from the SQLite store', () => {
  it('leaves no row of it in any table keyed by username but its roster version, and every row of the account beside it', async () => {
    await leaveData('alice');
    await leaveData('bob');
    const before = rowsOf('bob');
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining([
        'accounts',
        'account_keys',
        'roster_items',
        'roster_versions',
        'roster_pending_in',
        'offline_messages',
        'offline_totals',
        'xml_documents',
      ]),
    );
    expect(rowsOf('alice')).toEqual(before);
    expect(await stores.removeAccount('alice')).toBe(true);
    expect(rowsOf('alice')).toEqual({ roster_versions: 1 });
    expect(rowsOf('bob')).toEqual(before);
  });

  it('lets a new account of the same name start with nothing of the old one', async () => {
    await leaveData('alice');
    await stores.removeAccount('alice');
    await stores.accounts.create('alice', 'other');
    expect(await stores.accounts.verifyPassword('alice', 'secret')).toBe(false);
    expect((await stores.rosters.roster('alice')).items).toEqual([]);
    expect(await stores.rosters.pendingIn('alice')).toEqual([]);
    expect(await stores.offline.lease('alice', 60_000)).toEqual([]);
    expect(await stores.documents.keysOf('alice', '')).toEqual([]);
  });

  it('takes its affiliations out of every room, a room it alone owned passing to the domain (XEP-0045 §10.6)', async () => {
    await leaveData('alice');
    await stores.rooms.create('mine', DEFAULT_ROOM_CONFIG, 'alice@localhost');
    await stores.rooms.setAffiliation('mine', 'bob@localhost', 'member');
    await stores.rooms.create('theirs', DEFAULT_ROOM_CONFIG, 'bob@localhost');
    await stores.rooms.setAffiliation('theirs', 'alice@localhost', 'member');
    await stores.removeAccount('alice');
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      const rows = db
        .prepare<[], { room: string; jid: string; affiliation: string }>('SELECT room, jid, affiliation FROM room_affiliations ORDER BY room, jid')
        .all();
      expect(rows).toEqual([
        { room: 'mine', jid: 'bob@localhost', affiliation: 'member' },
        { room: 'mine', jid: 'localhost', affiliation: 'owner' },
        { room: 'theirs', jid: 'bob@localhost', affiliation: 'owner' },
      ]);
    } finally {
      db.close();
    }
  });
});
