import { extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ArchiveRetention } from '../archive-store';
import type { ArchiveWriter } from './archive-writer';
import type { ArchiveRecord } from './archive-writes';

/** What the main thread asks of the writer thread (src/store/sqlite/archive-writer-thread.ts). */
export type WriterRequest =
  | { readonly id: number; readonly op: 'write'; readonly records: readonly ArchiveRecord[] }
  | { readonly id: number; readonly op: 'prune'; readonly cutoff: number }
  | { readonly id: number; readonly op: 'deleteOwner'; readonly owner: string }
  | { readonly id: number; readonly op: 'close' };

/** Its answer to request `id`. */
export type WriterReply =
  { readonly id: number; readonly ok: true; readonly value: number } | { readonly id: number; readonly ok: false; readonly error: string };

interface Waiting {
  resolve(value: number): void;
  reject(err: Error): void;
}

/**
 * Runs the archive's write transactions in a thread of its own, so that the inserts, index updates
 * and WAL commits of a busy chat (two rows per message) cost the event loop a structured clone of
 * each batch and nothing more. The main thread keeps numbering messages and reading pages on its own
 * connection; SQLite's WAL lets it read while the writer commits.
 *
 * If the thread dies, what it had not confirmed is reported failed and every later call runs on the
 * main thread (`fallback`): the archive keeps working, slower.
 */
export class ThreadedArchiveWriter implements ArchiveWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private replacement: ArchiveWriter | undefined;
  private closing = false;

  constructor(
    file: string,
    retention: ArchiveRetention,
    private readonly fallback: () => ArchiveWriter,
    private readonly onThreadFailure: (err: Error) => void,
  ) {
    this.worker = startWriterThread({ file, retention });
    // Only outstanding requests keep the process alive (see request()).
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`the archive writer thread exited (code ${code})`));
    });
  }

  write(records: readonly ArchiveRecord[]): Promise<void> {
    if (this.replacement) return this.replacement.write(records);
    return this.request({ id: this.nextId++, op: 'write', records }).then(() => undefined);
  }

  prune(cutoff: number): Promise<number> {
    if (this.replacement) return this.replacement.prune(cutoff);
    return this.request({ id: this.nextId++, op: 'prune', cutoff });
  }

  deleteOwner(owner: string): Promise<void> {
    if (this.replacement) return this.replacement.deleteOwner(owner);
    return this.request({ id: this.nextId++, op: 'deleteOwner', owner }).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.replacement) return this.replacement.close();
    // Requests are answered in order: once 'close' is, everything before it is committed.
    await this.request({ id: this.nextId++, op: 'close' }).catch(() => undefined);
    this.closing = true;
    await this.worker.terminate();
  }

  private request(request: WriterRequest): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private settle(reply: WriterReply): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(reply.error));
  }

  private fail(err: Error): void {
    if (this.replacement) return;
    this.replacement = this.fallback();
    this.onThreadFailure(err);
    for (const waiting of this.waiting.values()) waiting.reject(err);
    this.waiting.clear();
  }
}

/**
 * The thread runs the compiled entry beside this file; run from TypeScript sources (the tests), it
 * compiles the entry with the repository's require hook first.
 */
function startWriterThread(workerData: { file: string; retention: ArchiveRetention }): Worker {
  const extension = extname(__filename);
  const entry = join(__dirname, `archive-writer-thread${extension}`);
  if (extension !== '.ts') return new Worker(entry, { workerData });
  const hook = resolve(__dirname, '../../../scripts/register-ts.js');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(entry)});`, { eval: true, workerData });
}
