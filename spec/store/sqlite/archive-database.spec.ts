import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chatConversation } from '../../../src/store/archive-store';
import { ARCHIVE_DATABASE_FILE, openArchiveDatabase } from '../../../src/store/sqlite/archive-database';
import { openDatabase } from '../../../src/store/sqlite/database';
import { SqliteArchiveStore } from '../../../src/store/sqlite/sqlite-archive-store';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-archive-db-'));
  dirs.push(dir);
  return dir;
};
const KEEP_ALL = { maxPerOwner: 0, maxAgeMs: 0 };
const chat = (body: string) => ({
  conversation: chatConversation('a@x', 'b@x'),
  copies: [
    { owner: 'a@x', with: 'b@x' },
    { owner: 'b@x', with: 'a@x' },
  ],
  from: 'a@x/r',
  to: 'b@x',
  type: 'chat' as const,
  body,
  stanza: `<message><body>${body}</body></message>`,
});
const count = (db: Database.Database, table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('the archive database (a file of its own under DATA_DIR)', () => {
  it('moves archives an earlier release kept in the node file, once: same ids, numbering goes on', async () => {
    const dir = freshDir();
    const main = openDatabase(dir);
    const earlier = new SqliteArchiveStore(main, KEEP_ALL);
    await earlier.append(chat('one'));
    const two = await earlier.append(chat('two'));
    await earlier.close();

    const archiveDb = openArchiveDatabase(dir, main);
    expect(existsSync(join(dir, ARCHIVE_DATABASE_FILE))).toBe(true);
    expect(count(main, 'archive_messages')).toBe(0);
    const store = new SqliteArchiveStore(archiveDb, KEEP_ALL);
    const page = await store.query({ owner: 'b@x', limit: 10 });
    expect('messages' in page && page.messages.map((m) => [m.body, m.archiveId])).toEqual([
      ['one', expect.any(String)],
      ['two', two.archiveId],
    ]);
    expect((await store.append(chat('three'))).seq).toBe(3);
    await store.close();
    archiveDb.close();

    // Opened again: nothing moves twice, nothing is lost.
    const again = openArchiveDatabase(dir, main);
    expect(count(again, 'archive_messages')).toBe(6);
    again.close();
    main.close();
  });

  it('has a write lock of its own: the node file takes writes while an archive commit holds the archive file', () => {
    const dir = freshDir();
    const main = openDatabase(dir);
    const archiveDb = openArchiveDatabase(dir, main);
    // Another connection (the writer thread's) in the middle of a commit on the archive file.
    const writer = new Database(join(dir, ARCHIVE_DATABASE_FILE));
    writer.exec('BEGIN IMMEDIATE');
    writer.prepare("INSERT INTO archive_sequences (conversation, seq) VALUES ('c', 1)").run();
    main.pragma('busy_timeout = 0');
    expect(() => main.prepare("INSERT INTO xml_documents (username, key, xml) VALUES ('u', 'k', '<x/>')").run()).not.toThrow();
    writer.exec('COMMIT');
    writer.close();
    archiveDb.close();
    main.close();
  });
});
