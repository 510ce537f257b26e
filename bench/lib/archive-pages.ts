// One XEP-0313 page of 50 from a large SQLite archive: the archive generated inside SQLite for one owner (a
// recursive CTE in one transaction: fast, and no different on disk from what the node writes), then each kind of
// page query timed through the store. Used by the bench's mam phase and by bench/archive-page.ts.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { renderMamPage } from '../../src/archive/mam-render';
import { conversationHash } from '../../src/store/archive-ids';
import { chatConversation, type ArchivePage, type ArchiveQuery, type UnknownArchiveId } from '../../src/store/archive-store';
import { DATABASE_FILE, openDatabase, type SqliteDatabase } from '../../src/store/sqlite/database';
import { SqliteArchiveStore } from '../../src/store/sqlite/sqlite-archive-store';

export const ARCHIVE_OWNER = 'alice@localhost';
export const ARCHIVE_CONVERSATIONS = 1000;
export const archiveContact = (k: number): string => `user${k}@localhost`;

export interface PageFigure {
  readonly what: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface GeneratedArchive {
  readonly db: SqliteDatabase;
  readonly store: SqliteArchiveStore;
  readonly rows: number;
  readonly generatedMs: number;
  readonly bytes: number;
}

export interface ArchivePagesResult {
  rows: number;
  conversations: number;
  pages: number;
  generatedSeconds: number;
  databaseMiB: number;
  figures: PageFigure[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** `rows` messages of one owner over 1,000 conversations in a fresh database under `dir`. */
export function generateArchive(dir: string, rows: number): GeneratedArchive {
  const db = openDatabase(dir);
  db.function('conversation_hash', { deterministic: true }, (conversation: unknown) => conversationHash(String(conversation)));
  const generating = process.hrtime.bigint();
  // Message i belongs to conversation i % 1000 and is its (i / 1000 + 1)-th: ids and seqs rise with time.
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
       m(i, k, seq, conversation) AS (
         SELECT i, i % ${ARCHIVE_CONVERSATIONS}, i / ${ARCHIVE_CONVERSATIONS} + 1, 'chat:alice@localhost|user' || (i % ${ARCHIVE_CONVERSATIONS}) || '@localhost' FROM n)
       INSERT INTO archive_messages (owner, conversation, conv_hash, seq, with_jid, from_jid, to_jid, type, body, stanza, ts)
       SELECT '${ARCHIVE_OWNER}', conversation, conversation_hash(conversation), seq, 'user' || k || '@localhost',
              '${ARCHIVE_OWNER}/phone', 'user' || k || '@localhost', 'chat', 'message ' || i,
              '<message xmlns=''jabber:client'' from=''${ARCHIVE_OWNER}/phone'' to=''user' || k || '@localhost'' type=''chat'' id=''m' || i || '''><body>message ' || i || ' ' || printf('%.60c', 'x') || '</body></message>',
              ${Date.now() - rows * 1000} + i * 1000
       FROM m`,
    ).run(rows);
    db.prepare(`INSERT INTO archive_sequences (conversation, seq) SELECT conversation, max(seq) FROM archive_messages GROUP BY conversation`).run();
    db.prepare(`INSERT INTO archive_totals (owner, messages) VALUES (?, ?)`).run(ARCHIVE_OWNER, rows);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const generatedMs = Number(process.hrtime.bigint() - generating) / 1e6;
  const bytes = statSync(join(dir, DATABASE_FILE)).size;
  return { db, store: new SqliteArchiveStore(db, { maxPerOwner: 0, maxAgeMs: 0 }), rows, generatedMs, bytes };
}

function page(result: ArchivePage | UnknownArchiveId): ArchivePage {
  if ('unknownId' in result) throw new Error(`unknown id ${result.unknownId}`);
  if (result.messages.length !== 50) throw new Error(`a page of ${result.messages.length}`);
  return result;
}

/** `pages` pages of 50 of each kind (after 100 warm-up pages each), timed one at a time. */
export async function measurePages(archive: GeneratedArchive, pages: number): Promise<PageFigure[]> {
  const { db, store, rows } = archive;
  const measure = async (what: string, run: (i: number) => Promise<unknown>): Promise<PageFigure> => {
    for (let i = 0; i < 100; i++) await run(i); // warm-up: statements prepared, pages cached
    const times: number[] = [];
    for (let i = 0; i < pages; i++) {
      const started = process.hrtime.bigint();
      await run(i);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    return { what, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] ?? 0 };
  };
  // Random ids spread over the whole archive, taken from it.
  const idAt = db.prepare<[number], { archive_id: string }>("SELECT conv_hash || '-' || seq AS archive_id FROM archive_messages WHERE id = ?");
  const randomId = (): string => (idAt.get(1 + Math.floor(Math.random() * (rows - 100)) + 50) as { archive_id: string }).archive_id;
  const ids = Array.from({ length: pages + 100 }, randomId);
  const base: ArchiveQuery = { owner: ARCHIVE_OWNER, limit: 50 };
  const render = (result: ArchivePage): number => renderMamPage(result, { archive: ARCHIVE_OWNER, to: `${ARCHIVE_OWNER}/phone`, queryId: 'q' }).results.length;
  const perConversation = Math.floor(rows / ARCHIVE_CONVERSATIONS);
  return [
    await measure('latest page (RSM <before/>), query', async () => page(await store.query({ ...base, before: '' }))),
    await measure('latest page, query + 50 result messages rendered', async () => render(page(await store.query({ ...base, before: '' })))),
    await measure('page after a random id (forward)', async (i) => page(await store.query({ ...base, after: ids[i] }))),
    await measure('page before a random id (backward)', async (i) => page(await store.query({ ...base, before: ids[i] }))),
    await measure(`latest page with one contact (with filter, ${perConversation.toLocaleString('en')} of its messages)`, async (i) =>
      page(await store.query({ ...base, with: archiveContact(i % ARCHIVE_CONVERSATIONS), before: '' })),
    ),
    await measure('everything after seq N of one conversation (since, 50)', async (i) => {
      const got = await store.since(
        ARCHIVE_OWNER,
        chatConversation(ARCHIVE_OWNER, archiveContact(i % ARCHIVE_CONVERSATIONS)),
        Math.max(0, perConversation - 60),
        50,
      );
      if (got.length !== 50) throw new Error(`since gave ${got.length}`);
    }),
  ];
}
