import type { Logger } from '../observability/logger';

// Deletions that failed (Redis away) are tried again this soon, with whatever settled meanwhile.
const RETRY_MS = 1_000;

/**
 * Entries of a Redis stream whose handling is over (the bus's and the journal's), deleted in batches:
 * those settled in the same turn of the event loop leave in one XDEL, one settled while a deletion is
 * on its way goes in the next, and after a failure (Redis away) they are tried again.
 */
export class StreamDeletions {
  private pending: string[] = [];
  private running: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    /** Deletes these entries; rejects when Redis cannot. */
    private readonly xdel: (ids: readonly string[]) => Promise<unknown>,
    private readonly logger: Logger,
    /** Names the stream in the log line of a failure. */
    private readonly stream: string,
  ) {}

  /** Settled entries not deleted yet (not counting a deletion on its way). */
  get waiting(): number {
    return this.pending.length;
  }

  add(id: string): void {
    this.pending.push(id);
    this.schedule();
  }

  /** Resolves once every deletion asked for so far has been tried. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.deleteWaiting();
  }

  /** No more retries (the node is leaving; what stays is routed again by the reaper). */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  private schedule(): void {
    // After a failure the retry takes what settles meanwhile: no XDEL per settled entry while Redis is away.
    if (this.running || this.retry) return;
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.deleteWaiting())
      .finally(() => {
        this.running = undefined;
        // Settled while that XDEL was on its way: they go in the next one (after a failure, the retry takes them).
        if (this.pending.length > 0 && !this.retry) this.schedule();
      });
  }

  private async deleteWaiting(): Promise<void> {
    if (this.pending.length === 0) return;
    const ids = this.pending;
    this.pending = [];
    try {
      await this.xdel(ids);
    } catch (err) {
      // Should this node die first, the reaper routes them again (a repeat, same stanza id).
      this.pending.push(...ids);
      this.logger.debug({ err: (err as Error).message, entries: ids.length, stream: this.stream }, 'stream deletion failed; retrying');
      if (this.stopped) return;
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.schedule();
      }, RETRY_MS);
      this.retry.unref();
    }
  }
}
