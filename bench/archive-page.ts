/**
 * One XEP-0313 page of 50 from a large SQLite archive: the store's query and the rendering of the
 * result messages, measured on their own (no HTTP, no XMPP session). The archive is generated inside
 * SQLite (a recursive CTE in one transaction) for one owner: `--rows` messages (default 1,000,000)
 * over 1,000 conversations. Figures go to docs/performance.md ("Message archive"); `npm run bench` measures the
 * same pages in its mam phase (bench/lib/archive-pages.ts).
 *
 *   node -r ./scripts/register-ts.js bench/archive-page.ts [--rows=1000000] [--pages=2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatConversation } from '../src/store/archive-store';
import { ARCHIVE_CONVERSATIONS, ARCHIVE_OWNER, archiveContact, generateArchive, measurePages } from './lib/archive-pages';

const arg = (name: string, fallback: number): number =>
  Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const ROWS = arg('rows', 1_000_000);
const PAGES = arg('pages', 2000);
const CONVERSATIONS = ARCHIVE_CONVERSATIONS;
const OWNER = ARCHIVE_OWNER;
const contact = archiveContact;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-archive-'));
  try {
    const archive = generateArchive(dir, ROWS);
    const { db, store } = archive;
    process.stdout.write(
      `archive: ${ROWS.toLocaleString('en')} messages of one owner over ${CONVERSATIONS} conversations generated in ${(archive.generatedMs / 1000).toFixed(1)} s; database ${(archive.bytes / 1024 / 1024).toFixed(0)} MiB\n`,
    );
    const figures = await measurePages(archive, PAGES);
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
