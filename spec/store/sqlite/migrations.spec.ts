import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openDatabase } from '../../../src/store/sqlite/database';
import { migrate } from '../../../src/store/sqlite/migrate';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations';
import { SqliteRoomStore } from '../../../src/store/sqlite/sqlite-room-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-migrate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const tables = (db: Database.Database): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);

describe('the SQLite database under DATA_DIR', () => {
  it('is created with its folder, in WAL mode with synchronous=NORMAL and a busy timeout', () => {
    const db = openDatabase(join(dir, 'nested', 'data'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it('runs every migration once and records it; opening it again runs none', () => {
    const first = openDatabase(dir);
    const recorded = first.prepare<[], { version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(recorded).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(tables(first)).toEqual(expect.arrayContaining(['accounts', 'account_keys', 'roster_items', 'offline_messages', 'xml_documents']));
    expect(migrate(first, MIGRATIONS)).toEqual([]);
    first.close();
    const again = openDatabase(dir);
    expect(again.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    again.close();
  });

  it('applies only the migrations added since, in version order', () => {
    const db = new Database(join(dir, 'x.sqlite'));
    expect(migrate(db, [{ version: 1, name: 'one', up: 'CREATE TABLE one (x)' }])).toEqual([1]);
    const later = [
      { version: 3, name: 'three', up: 'CREATE TABLE three (x REFERENCES two (x))' },
      { version: 1, name: 'one', up: 'CREATE TABLE one (x)' },
      { version: 2, name: 'two', up: 'CREATE TABLE two (x PRIMARY KEY)' },
    ];
    expect(migrate(db, later)).toEqual([2, 3]);
    expect(tables(db)).toEqual(['one', 'schema_migrations', 'three', 'two']);
    db.close();
  });

  it('leaves no trace of a migration that fails part way, and records nothing for it', () => {
    const db = new Database(join(dir, 'x.sqlite'));
    const broken = { version: 1, name: 'broken', up: 'CREATE TABLE half (x); CREATE TABLE oops (' };
    expect(() => migrate(db, [broken])).toThrow();
    expect(tables(db)).toEqual(['schema_migrations']);
    expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database that a newer release migrated further', () => {
    const db = new Database(join(dir, 'x.sqlite'));
    migrate(db, [
      { version: 1, name: 'one', up: 'CREATE TABLE one (x)' },
      { version: 2, name: 'two', up: 'CREATE TABLE two (x)' },
    ]);
    expect(() => migrate(db, [{ version: 1, name: 'one', up: 'CREATE TABLE one (x)' }])).toThrow(/migrations this version does not know \(2\)/);
    db.close();
  });
});

describe('005-affiliations-by-jid', () => {
  it("fills the per-user index of affiliations from the rooms a database already holds, and a user's rooms are read through it", async () => {
    // A database as the release before the index left it, with rooms and affiliations in it.
    const before = new Database(join(dir, DATABASE_FILE));
    before.pragma('foreign_keys = ON');
    migrate(
      before,
      MIGRATIONS.filter((m) => m.version < 5),
    );
    const room = before.prepare<[string]>("INSERT INTO rooms (room, config, created_at) VALUES (?, '{}', '2026-01-01T00:00:00Z')");
    const affiliation = before.prepare<[string, string, string]>('INSERT INTO room_affiliations (room, jid, affiliation) VALUES (?, ?, ?)');
    for (const name of ['crew', 'ops']) room.run(name);
    affiliation.run('crew', 'alice@localhost', 'owner');
    affiliation.run('crew', 'bob@localhost', 'member');
    affiliation.run('ops', 'bob@localhost', 'outcast');
    before.close();

    const db = openDatabase(dir);
    try {
      const rooms = new SqliteRoomStore(db);
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([
        { room: 'crew', affiliation: 'member' },
        { room: 'ops', affiliation: 'outcast' },
      ]);
      const plan = db
        .prepare<[string], { detail: string }>('EXPLAIN QUERY PLAN SELECT room, affiliation FROM room_affiliations WHERE jid = ? ORDER BY room')
        .all('bob@localhost')
        .map((row) => row.detail);
      expect(plan).toEqual([expect.stringContaining('USING COVERING INDEX room_affiliations_by_jid')]);
    } finally {
      db.close();
    }
  });
});

describe('the migrations folder', () => {
  it('lists every NNN-name file in MIGRATIONS, numbered 1, 2, 3… with the number of its file', () => {
    const folder = join(__dirname, '..', '..', '..', 'src', 'store', 'sqlite', 'migrations');
    const files = readdirSync(folder)
      .filter((file) => /^[0-9]{3}-.+\.ts$/.test(file))
      .sort();
    expect(files.map((file) => Number(file.slice(0, 3)))).toEqual(MIGRATIONS.map((m) => m.version));
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(files.map((file) => file.slice(4, -3))).toEqual(MIGRATIONS.map((m) => m.name));
  });
});
