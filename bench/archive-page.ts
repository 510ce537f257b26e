/**
 * One XEP-0313 page of 50 from a large SQLite archive: the store's query and the rendering of the
 * result messages, measured on their own (no HTTP, no XMPP session). The archive is generated inside
 * SQLite (a recursive CTE in one transaction) for one owner: `--rows` messages (default 1,000,000)
 * over 1,000 conversations. Figures go to docs/performance.md ("Message archive").
 *
 *   node -r ./scripts/register-ts.js bench/archive-page.ts [--rows=1000000] [--pages=2000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMamPage } from '../src/archive/mam-render';
import { conversationHash } from '../src/store/archive-ids';
import { chatConversation, type ArchivePage, type ArchiveQuery, type UnknownArchiveId } from '../src/store/archive-store';
import { DATABASE_FILE, openDatabase } from '../src/store/sqlite/database';
import { SqliteArchiveStore } from '../src/store/sqlite/sqlite-archive-store';

const arg = (name: string, fallback: number): number =>
  Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const ROWS = arg('rows', 1_000_000);
const PAGES = arg('pages', 2000);
const CONVERSATIONS = 1000;
const OWNER = 'alice@localhost';
const contact = (k: number): string => `user${k}@localhost`;

interface Figure {
  readonly what: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function measure(what: string, run: (i: number) => Promise<unknown>): Promise<Figure> {
  for (let i = 0; i < 100; i++) await run(i); // warm-up: statements prepared, pages cached
  const times: number[] = [];
  for (let i = 0; i < PAGES; i++) {
    const started = process.hrtime.bigint();
    await run(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { what, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] ?? 0 };
}

function page(result: ArchivePage | UnknownArchiveId): ArchivePage {
  if ('unknownId' in result) throw new Error(`unknown id ${result.unknownId}`);
  if (result.messages.length !== 50) throw new Error(`a page of ${result.messages.length}`);
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-archive-'));
  try {
    const db = openDatabase(dir);
    db.function('conversation_hash', { deterministic: true }, (conversation: unknown) => conversationHash(String(conversation)));
    const generating = process.hrtime.bigint();
    // Message i belongs to conversation i % 1000 and is its (i / 1000 + 1)-th: ids and seqs rise with time.
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
         m(i, k, seq, conversation) AS (
           SELECT i, i % ${CONVERSATIONS}, i / ${CONVERSATIONS} + 1, 'chat:alice@localhost|user' || (i % ${CONVERSATIONS}) || '@localhost' FROM n)
         INSERT INTO archive_messages (owner, conversation, conv_hash, seq, with_jid, from_jid, to_jid, type, body, stanza, ts)
         SELECT '${OWNER}', conversation, conversation_hash(conversation), seq, 'user' || k || '@localhost',
                '${OWNER}/phone', 'user' || k || '@localhost', 'chat', 'message ' || i,
                '<message xmlns=''jabber:client'' from=''${OWNER}/phone'' to=''user' || k || '@localhost'' type=''chat'' id=''m' || i || '''><body>message ' || i || ' ' || printf('%.60c', 'x') || '</body></message>',
                ${Date.now() - ROWS * 1000} + i * 1000
         FROM m`,
      ).run(ROWS);
      db.prepare(`INSERT INTO archive_sequences (conversation, seq) SELECT conversation, max(seq) FROM archive_messages GROUP BY conversation`).run();
      db.prepare(`INSERT INTO archive_totals (owner, messages) VALUES (?, ?)`).run(OWNER, ROWS);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const generatedMs = Number(process.hrtime.bigint() - generating) / 1e6;
    const bytes = statSync(join(dir, DATABASE_FILE)).size;
    process.stdout.write(
      `archive: ${ROWS.toLocaleString('en')} messages of one owner over ${CONVERSATIONS} conversations generated in ${(generatedMs / 1000).toFixed(1)} s; database ${(bytes / 1024 / 1024).toFixed(0)} MiB\n`,
    );

    const store = new SqliteArchiveStore(db, { maxPerOwner: 0, maxAgeMs: 0 });
    // Random ids spread over the whole archive, taken from it.
    const idAt = db.prepare<[number], { archive_id: string }>("SELECT conv_hash || '-' || seq AS archive_id FROM archive_messages WHERE id = ?");
    const randomId = (): string => (idAt.get(1 + Math.floor(Math.random() * (ROWS - 100)) + 50) as { archive_id: string }).archive_id;
    const ids = Array.from({ length: PAGES + 100 }, randomId);
    const base: ArchiveQuery = { owner: OWNER, limit: 50 };
    const render = (result: ArchivePage): number => renderMamPage(result, { archive: OWNER, to: `${OWNER}/phone`, queryId: 'q' }).results.length;

    const figures = [
      await measure('latest page (RSM <before/>), query', async () => page(await store.query({ ...base, before: '' }))),
      await measure('latest page, query + 50 result messages rendered', async () => render(page(await store.query({ ...base, before: '' })))),
      await measure('page after a random id (forward)', async (i) => page(await store.query({ ...base, after: ids[i] }))),
      await measure('page before a random id (backward)', async (i) => page(await store.query({ ...base, before: ids[i] }))),
      await measure(`latest page with one contact (with filter, ${(ROWS / CONVERSATIONS).toLocaleString('en')} of its messages)`, async (i) =>
        page(await store.query({ ...base, with: contact(i % CONVERSATIONS), before: '' })),
      ),
      await measure('everything after seq N of one conversation (since, 50)', async (i) => {
        const got = await store.since(OWNER, chatConversation(OWNER, contact(i % CONVERSATIONS)), Math.max(0, ROWS / CONVERSATIONS - 60), 50);
        if (got.length !== 50) throw new Error(`since gave ${got.length}`);
      }),
    ];
    process.stdout.write(`\n| one page of 50 from ${ROWS.toLocaleString('en')} messages (${PAGES} pages) | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n`);
    for (const f of figures) process.stdout.write(`| ${f.what} | ${f.p50.toFixed(3)} | ${f.p99.toFixed(3)} | ${f.max.toFixed(3)} |\n`);

    // The append path: group commits, as the node writes chats (CPU time: the machine may be shared).
    const appendStarted = process.hrtime.bigint();
    const appendCpu = process.cpuUsage();
    const APPENDS = 20_000;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < APPENDS; i++) {
      const other = contact(i % CONVERSATIONS);
      pending.push(
        store.append({
          conversation: chatConversation(OWNER, other),
          copies: [
            { owner: OWNER, with: other },
            { owner: other, with: OWNER },
          ],
          from: `${OWNER}/phone`,
          to: other,
          type: 'chat',
          body: 'hello',
          stanza: `<message xmlns='jabber:client' to='${other}' type='chat'><body>hello</body></message>`,
        }),
      );
      if (pending.length === 100) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await store.flush();
    const cpu = process.cpuUsage(appendCpu);
    const appendMs = Number(process.hrtime.bigint() - appendStarted) / 1e6;
    process.stdout.write(
      `\nappend: ${APPENDS.toLocaleString('en')} chats (two copies each): ${((APPENDS / appendMs) * 1000).toFixed(0)} chats/s, ${((appendMs * 1000) / APPENDS).toFixed(1)} µs wall and ${((cpu.user + cpu.system) / APPENDS).toFixed(1)} µs CPU each\n`,
    );
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
