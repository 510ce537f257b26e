import type Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import type { BusMessage, JournalEntry, MessageJournal } from '../routing/route-table';
import type { RedisKeys } from './keys';

/** Told when a message went to a session of this node without a journal entry (Redis could not take it). */
export interface JournalObserver {
  journalSkipped(): void;
}

// Deletions that failed (Redis away) are tried again this soon, with whatever settled meanwhile.
const REMOVAL_RETRY_MS = 1_000;

/** An entry on its way: its stream id once written, and whether it was settled meanwhile. */
interface Written {
  id: string | undefined;
  settled: boolean;
}

interface Waiting {
  readonly json: string;
  readonly entry: Written;
  readonly done: () => void;
}

/**
 * This node's journal (`journal:<node>`, a stream its bus reader does not read): each message handed
 * to one of its own sessions is appended, and deleted once its client confirmed it (or, the session
 * having ended, it was routed again) — the Settled path bus entries take. What a node leaves in it
 * when it dies is what no client was known to have, and the reaper routes that again (JournalReplay).
 *
 * One XADD per message; those kept in the same turn of the event loop go in one pipeline, and entries
 * settling together leave in one XDEL. A write Redis refuses is not retried: the message was delivered
 * all the same, only not protected against a crash of this node (counted, `bus_journal_skipped_total`).
 */
export class RedisJournal implements MessageJournal {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | undefined;
  private settledIds: string[] = [];
  private removing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly node: string,
    private readonly logger: Logger,
    private readonly observer?: JournalObserver,
  ) {}

  keep(message: BusMessage): JournalEntry {
    const entry: Written = { id: undefined, settled: false };
    const written = new Promise<void>((done) => this.waiting.push({ json: JSON.stringify(message), entry, done }));
    this.writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeWaiting());
    return { written, settled: () => this.settle(entry) };
  }

  /** Resolves once every write and deletion asked for so far has been tried. */
  async idle(): Promise<void> {
    while (this.writing || this.removing) {
      await this.writing;
      await this.removing;
    }
    await this.removeSettled();
  }

  /** No more retries (the node is leaving; what stays is routed again by the reaper). */
  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  private async writeWaiting(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    this.writing = undefined;
    const ids = await this.append(batch.map((w) => w.json));
    batch.forEach(({ entry, done }, i) => {
      entry.id = ids[i];
      if (entry.id === undefined) this.observer?.journalSkipped();
      else if (entry.settled) this.remove(entry.id);
      done();
    });
  }

  /** Appends each entry; the id of each, or undefined for one Redis did not take. */
  private async append(entries: readonly string[]): Promise<Array<string | undefined>> {
    const stream = this.keys.journal(this.node);
    try {
      const pipeline = this.redis.pipeline();
      for (const json of entries) pipeline.xadd(stream, '*', 'm', json);
      const replies = (await pipeline.exec()) ?? [];
      return entries.map((_, i) => {
        const [err, id] = replies[i] ?? [new Error('no reply')];
        return err ? undefined : (id as string);
      });
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, entries: entries.length }, 'journal write failed; delivered without it');
      return entries.map(() => undefined);
    }
  }

  private settle(entry: Written): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.id !== undefined) this.remove(entry.id);
  }

  /** The entry is settled: it leaves the stream soon (entries settling together go in one XDEL). */
  private remove(id: string): void {
    this.settledIds.push(id);
    this.scheduleRemoval();
  }

  private scheduleRemoval(): void {
    if (this.removing) return;
    this.removing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.removeSettled())
      .finally(() => {
        this.removing = undefined;
        // Settled while that XDEL was on its way: they go in the next one (after a failure, the retry takes them).
        if (this.settledIds.length > 0 && !this.retry) this.scheduleRemoval();
      });
  }

  private async removeSettled(): Promise<void> {
    if (this.settledIds.length === 0) return;
    const ids = this.settledIds;
    this.settledIds = [];
    try {
      await this.redis.xdel(this.keys.journal(this.node), ...ids);
    } catch (err) {
      // Redis is away: tried again later. Should this node die first, the reaper routes them again (a repeat, same stanza id).
      this.settledIds.push(...ids);
      this.logger.debug({ err: (err as Error).message, entries: ids.length }, 'journal deletion failed; retrying');
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        void this.removeSettled();
      }, REMOVAL_RETRY_MS);
      this.retry.unref();
    }
  }
}
