import type Database from 'better-sqlite3';

/** One schema change: applied once, in version order, inside a transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL statements, run with exec(). */
  readonly up: string;
}

/**
 * Applies the migrations the database has not seen yet and records each in schema_migrations, in the
 * same transaction as its statements: a migration either ran completely or not at all, and running
 * this again is a no-op. BEGIN IMMEDIATE takes the write lock before reading what ran, so two
 * processes starting on one DATA_DIR do not both apply a migration.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations');
  const record = db.prepare<[number, string, string]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const known = new Set(migrations.map((m) => m.version));
  const run = db.transaction((): number[] => {
    const done = new Set(applied.all().map((row) => row.version));
    const unknown = [...done].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      // A database written by a newer release: refusing is safer than running on a schema we do not know.
      throw new Error(`the database under DATA_DIR has schema migrations this version does not know (${unknown.join(', ')}); run the release that wrote it`);
    }
    const ran: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      db.exec(migration.up);
      record.run(migration.version, migration.name, new Date().toISOString());
      ran.push(migration.version);
    }
    return ran;
  });
  return run.immediate();
}
