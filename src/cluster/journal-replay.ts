import type Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import type { BusMessage } from '../routing/route-table';
import { BusEntryReader } from './bus-entry';
import type { RedisKeys } from './keys';

// Removes a node's journal only when it holds nothing (checked and removed in one step, so an entry
// written meanwhile by a node of that id that came back is never removed with it).
const REMOVE_IF_EMPTY = `if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) return 1 end return 0`;

/**
 * Routes again what a node's journal holds (see RedisJournal): a dead node's, by the reaper, or this
 * node's own from before it restarted under the same id. Only entries up to the last one there when
 * the replay starts are taken: anything after is a live node's (one that came back under that id),
 * settled by that node itself.
 */
export class JournalReplay {
  private readonly entries: BusEntryReader;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    logger: Logger,
    node: string,
  ) {
    this.entries = new BusEntryReader(logger, node);
  }

  /** The id of the newest entry in a node's journal, or undefined when it is empty. */
  async newest(node: string): Promise<string | undefined> {
    const [last] = (await this.redis.xrevrange(this.keys.journal(node), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    return last?.[0];
  }

  /**
   * Hands each entry of `node`'s journal up to `upTo` (default: the newest now) to `handle`, oldest
   * first, and deletes each only once handled: a failure halfway leaves the rest for the next attempt,
   * and what was handled may be routed a second time then (a repeat, same stanza id), never lost.
   */
  async replay(node: string, handle: (message: BusMessage) => Promise<void>, upTo?: string): Promise<number> {
    const stream = this.keys.journal(node);
    const last = upTo ?? (await this.newest(node));
    if (last === undefined) return 0;
    let count = 0;
    // Past each entry in turn (an exclusive start, Redis 6.2), so that those left behind are not read again.
    for (let from = '-'; ;) {
      const entries = (await this.redis.xrange(stream, from, last, 'COUNT', 500)) as Array<[string, string[]]>;
      if (entries.length === 0) return count;
      for (const [id, fields] of entries) {
        from = `(${id}`;
        const entry = this.entries.read(fields[1], stream);
        // A kind this release does not read stays for a release that reads it (see BusEntryReader).
        if (entry && 'unknownKind' in entry) continue;
        if (entry) {
          await handle(entry.message);
          count++;
        }
        await this.redis.xdel(stream, id);
      }
    }
  }

  /** Removes a node's journal if it holds nothing (after a replay); whether it is gone (false: entries are left). */
  async removeIfEmpty(node: string): Promise<boolean> {
    return (await this.redis.eval(REMOVE_IF_EMPTY, 1, this.keys.journal(node))) === 1;
  }
}
