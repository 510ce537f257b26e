// The groups-and-history phases of the bench, apart from bench/run.ts: the archive pages (mam) in the bench's own
// process, and what the room phase reports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateArchive, measurePages, ARCHIVE_CONVERSATIONS, type ArchivePagesResult } from './archive-pages';
import type { RoomResult } from './room';

/** mam: an archive of `rows` generated in a temporary directory, `pages` pages of each kind timed, the directory removed. */
export async function runArchivePages(rows: number, pages: number, log: (s: string) => void): Promise<ArchivePagesResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bosh-bench-mam-'));
  try {
    const archive = generateArchive(dir, rows);
    log(
      `mam: ${rows.toLocaleString('en')} messages generated in ${(archive.generatedMs / 1000).toFixed(1)} s (${(archive.bytes / 1048576).toFixed(0)} MiB); ${pages} pages of each kind`,
    );
    try {
      const figures = await measurePages(archive, pages);
      for (const x of figures) log(`mam: ${x.what}: p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms, max ${x.max.toFixed(1)} ms`);
      return {
        rows,
        conversations: ARCHIVE_CONVERSATIONS,
        pages,
        generatedSeconds: archive.generatedMs / 1000,
        databaseMiB: archive.bytes / 1048576,
        figures,
      };
    } finally {
      archive.db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for the log. */
export function roomLine(r: RoomResult): string {
  return (
    `room: ${r.sent} messages at ${r.rate}/s to ${r.occupants} occupants: ${r.delivered} of ${r.expected} deliveries; ` +
    `send-to-arrival p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms` +
    (r.deadSessions ? `; ${r.deadSessions} sessions ended` : '')
  );
}
