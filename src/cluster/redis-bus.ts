import type Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import type { Bus, BusMessage } from '../routing/route-table';
import type { RedisKeys } from './keys';

// A node's inbox never grows without bound if it stops reading (approximate trim).
const MAX_BACKLOG = 100_000;

/**
 * Stanzas to other nodes through one Redis stream per node. The owner reads its stream with a
 * blocking XREAD and deletes what it processed, so whatever remains when a node dies is exactly
 * what it never handled: the reaper routes that again (offline storage) instead of losing it.
 */
export class RedisBus implements Bus {
  private running = false;
  private lastId = '$';
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: XREAD BLOCK holds it. */
    private readonly reader: Redis,
    private readonly keys: RedisKeys,
    private readonly node: string,
    private readonly isAlive: (node: string) => Promise<boolean>,
    private readonly logger: Logger,
  ) {}

  send(node: string, message: BusMessage): Promise<void> {
    const sending = (async () => {
      // A dead node's stream would only be read by the reaper: route elsewhere at once instead.
      if (!(await this.isAlive(node))) throw new Error(`node ${node} is not alive`);
      await this.redis.xadd(this.keys.bus(node), 'MAXLEN', '~', MAX_BACKLOG, '*', 'm', JSON.stringify(message));
    })();
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending)).catch(() => undefined);
    return sending;
  }

  /** Resolves when every message handed to `send` so far has reached Redis (or failed). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Reads this node's stream until stopped; each message goes to `handle` in order. */
  start(handle: (message: BusMessage) => Promise<void>): void {
    if (this.running) return;
    this.running = true;
    // Messages queued while this node was starting (or before a restart) are read from the beginning.
    this.lastId = '0';
    void this.loop(handle);
  }

  stop(): void {
    this.running = false;
    this.reader.disconnect();
  }

  private async loop(handle: (message: BusMessage) => Promise<void>): Promise<void> {
    const stream = this.keys.bus(this.node);
    while (this.running) {
      let batch: Array<[string, Array<[string, string[]]>]> | null;
      try {
        batch = await this.reader.xread('COUNT', 200, 'BLOCK', 1000, 'STREAMS', stream, this.lastId);
      } catch (err) {
        if (!this.running) return;
        this.logger.debug({ err: (err as Error).message }, 'bus read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      const entries = batch?.[0]?.[1] ?? [];
      // Stopped while the read was on its way: what it returned stays in the stream for whoever drains it.
      if (!this.running) return;
      if (entries.length === 0) continue;
      const processed: string[] = [];
      for (const [id, fields] of entries) {
        this.lastId = id;
        processed.push(id);
        const json = fields[1];
        if (json === undefined) continue;
        try {
          await handle(JSON.parse(json) as BusMessage);
        } catch (err) {
          this.logger.warn({ err }, 'bus message failed');
        }
      }
      await this.redis.xdel(stream, ...processed).catch(() => undefined);
    }
  }

  /** What a dead node left unread: its stream's entries, removed as they are returned. */
  async drain(node: string): Promise<BusMessage[]> {
    const stream = this.keys.bus(node);
    const entries = (await this.redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    await this.redis.del(stream);
    return entries.flatMap(([, fields]) => (fields[1] === undefined ? [] : [JSON.parse(fields[1]) as BusMessage]));
  }
}
