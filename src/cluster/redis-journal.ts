import type Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import type { BusMessage, JournalEntry, MessageJournal } from '../routing/route-table';
import type { RedisKeys } from './keys';
import { StreamDeletions } from './stream-deletions';

/** Told when a message went to a session of this node without a journal entry (Redis could not take it). */
export interface JournalObserver {
  journalSkipped(): void;
}

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
  private readonly deletions: StreamDeletions;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly node: string,
    private readonly logger: Logger,
    private readonly observer?: JournalObserver,
  ) {
    const stream = keys.journal(node);
    this.deletions = new StreamDeletions((ids) => redis.xdel(stream, ...ids), logger, stream);
  }

  keep(message: BusMessage): JournalEntry {
    const entry: Written = { id: undefined, settled: false };
    const written = new Promise<void>((done) => this.waiting.push({ json: JSON.stringify(message), entry, done }));
    this.writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeWaiting());
    return { written, settled: () => this.settle(entry) };
  }

  /** Resolves once every write and deletion asked for so far has been tried. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
    await this.deletions.flush();
  }

  /** No more retries (the node is leaving; what stays is routed again by the reaper). */
  stop(): void {
    this.deletions.stop();
  }

  private async writeWaiting(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    this.writing = undefined;
    const ids = await this.append(batch.map((w) => w.json));
    batch.forEach(({ entry, done }, i) => {
      entry.id = ids[i];
      if (entry.id === undefined) this.observer?.journalSkipped();
      else if (entry.settled) this.deletions.add(entry.id);
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
    // Entries settling together leave the stream in one XDEL.
    if (entry.id !== undefined) this.deletions.add(entry.id);
  }
}
