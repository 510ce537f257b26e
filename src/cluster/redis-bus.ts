import type Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import type { SettleClaim } from '../routing/resource';
import { SettleReceipt } from '../routing/settle-receipt';
import type { Bus, BusMessage } from '../routing/route-table';
import { BusEntryReader } from './bus-entry';
import { BusOutbox, type OutboxBounds } from './bus-outbox';
import type { RedisKeys } from './keys';
import { waitForSettling } from './settle-wait';
import { StreamDeletions } from './stream-deletions';

// A node's inbox never grows without bound if it stops reading (approximate trim).
const MAX_BACKLOG = 100_000;
// Entry ids remembered by a reader to drop a repeat: a write retried after its reply was lost
// (Redis went away between doing it and answering) lands twice, seconds apart at most.
const REMEMBERED_IDS = 20_000;
// After a failed read (Redis away) the next one is tried this soon: a read fails at once while the
// connection is down, and one that comes back should be read from at once.
const READ_RETRY_MS = 100;

/** A message on its way, with the id that lets its reader drop a second copy of it. */
interface Outgoing {
  readonly unique: string;
  readonly json: string;
}

/** How a bus message is handled: `claim` gives a callback for each copy handed to a session (see SettleClaim). */
export type BusHandler = (message: BusMessage, claim: SettleClaim) => Promise<void>;

// How long a leaving node waits, by default, for its clients to confirm what it handed to their sessions (BUS_SETTLE_WAIT_MS).
const DEFAULT_SETTLE_WAIT_MS = 3_000;

/**
 * Stanzas to other nodes through one Redis stream per node. The owner reads its stream with a
 * blocking XREAD and deletes an entry only once it is settled — handled, and each copy given to a
 * session received by its client or routed again — so whatever remains when a node dies is exactly
 * what no client was known to have: the reaper routes that again (offline storage) instead of losing it.
 */
export class RedisBus implements Bus {
  private running = false;
  private reading: Promise<void> = Promise.resolve();
  private lastId = '$';
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly outbox: BusOutbox<Outgoing>;
  /** This process's prefix for message ids, and a counter. */
  private readonly origin = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  private sequence = 0;
  private readonly seen = new Set<string>();
  /** Entries read and not yet settled, and settled ones not yet removed from the stream. */
  private readonly unsettled = new Set<string>();
  private readonly deletions: StreamDeletions;
  private readonly entries: BusEntryReader;

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: XREAD BLOCK holds it. */
    private readonly reader: Redis,
    private readonly keys: RedisKeys,
    private readonly node: string,
    private readonly isAlive: (node: string) => Promise<boolean>,
    private readonly logger: Logger,
    outboxBounds: OutboxBounds = { maxMessages: 10_000, maxAgeMs: 30_000 },
    /** How long `stop` waits at most for what was handed to sessions to settle. */
    private readonly settleWaitMs = DEFAULT_SETTLE_WAIT_MS,
  ) {
    this.outbox = new BusOutbox(outboxBounds, (to, message) => this.write(to, message));
    const stream = keys.bus(node);
    this.deletions = new StreamDeletions(
      async (ids) => {
        await redis.xdel(stream, ...ids);
        for (const id of ids) this.unsettled.delete(id);
      },
      logger,
      stream,
    );
    this.entries = new BusEntryReader(logger, node);
  }

  /** Messages waiting for Redis to come back. */
  get waiting(): number {
    return this.outbox.size;
  }

  /**
   * Puts a message on `node`'s stream. While Redis is unreachable it waits in the outbox (behind
   * anything already waiting, so order is kept) and goes out when Redis is back; it fails when that
   * node is dead or the outbox's bounds are passed, and the caller routes it again.
   */
  send(node: string, message: BusMessage): Promise<void> {
    return this.handOver(node, message).done;
  }

  /** As `send`; `taken` resolves once the message is on the stream or waiting in the outbox (or failed). */
  handOver(node: string, message: BusMessage): { taken: Promise<void>; done: Promise<void> } {
    const outgoing: Outgoing = { unique: `${this.origin}.${this.sequence++}`, json: JSON.stringify(message) };
    let markTaken: () => void = () => undefined;
    const taken = new Promise<void>((resolve) => (markTaken = resolve));
    let sending: Promise<void>;
    if (this.outbox.size > 0) {
      sending = this.outbox.hold(node, outgoing);
      markTaken();
    } else sending = this.sendNow(node, outgoing, markTaken);
    sending.then(markTaken, markTaken);
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending)).catch(() => undefined);
    return { taken, done: sending };
  }

  private async sendNow(node: string, message: Outgoing, taken: () => void): Promise<void> {
    let outcome: 'sent' | 'dead';
    try {
      outcome = await this.write(node, message);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'bus write failed; the message waits for Redis');
      const held = this.outbox.hold(node, message);
      taken();
      return held;
    }
    if (outcome === 'dead') throw new Error(`node ${node} is not alive`);
  }

  private async write(node: string, message: Outgoing): Promise<'sent' | 'dead'> {
    // A dead node's stream would only be read by the reaper: route elsewhere at once instead.
    if (!(await this.isAlive(node))) return 'dead';
    await this.redis.xadd(this.keys.bus(node), 'MAXLEN', '~', MAX_BACKLOG, '*', 'm', message.json, 'u', message.unique);
    return 'sent';
  }

  /** Resolves when every message handed to `send` so far has reached Redis (or failed). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Reads this node's stream until stopped; each message goes to `handle` in order. */
  start(handle: BusHandler): void {
    if (this.running) return;
    this.running = true;
    // Messages queued while this node was starting (or before a restart) are read from the beginning.
    this.lastId = '0';
    // loop() catches everything it awaits.
    this.reading = this.loop(handle);
  }

  /**
   * Stops reading; resolves once the message being handled (if any) is done and what was handed to
   * sessions is settled (for `settleWaitMs` at most, BUS_SETTLE_WAIT_MS: what is not stays in the stream for `drain`).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    await this.reading;
    await waitForSettling(() => this.unsettled.size <= this.deletions.waiting, this.settleWaitMs);
    await this.deletions.flush();
    this.deletions.stop();
  }

  /** Entries read here and not settled yet (their sessions' clients have not confirmed them). */
  get unsettledCount(): number {
    return this.unsettled.size - this.deletions.waiting;
  }

  private async loop(handle: BusHandler): Promise<void> {
    const stream = this.keys.bus(this.node);
    while (this.running) {
      let batch: Array<[string, Array<[string, string[]]>]> | null;
      try {
        batch = await this.reader.xread('COUNT', 200, 'BLOCK', 1000, 'STREAMS', stream, this.lastId);
      } catch (err) {
        if (!this.running) return;
        this.logger.debug({ err: (err as Error).message }, 'bus read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        continue;
      }
      const entries = batch?.[0]?.[1] ?? [];
      // Stopped while the read was on its way: what it returned stays in the stream for whoever drains it.
      if (!this.running) return;
      if (entries.length === 0) continue;
      for (const [id, fields] of entries) {
        this.lastId = id;
        const entry = this.entries.read(fields[1], stream);
        // A kind this release does not read stays in the stream, never settled (see BusEntryReader).
        if (entry && 'unknownKind' in entry) continue;
        this.unsettled.add(id);
        // Removed from the stream once handled and every copy handed to a session is settled.
        const receipt = new SettleReceipt(() => this.deletions.add(id));
        try {
          if (entry && !this.repeated(fields[3])) await handle(entry.message, receipt.claim);
        } catch (err) {
          this.logger.warn({ err }, 'bus message failed');
        } finally {
          receipt.release();
        }
      }
    }
  }

  /** Whether this entry id was read before (and remembers it). */
  private repeated(unique: string | undefined): boolean {
    if (unique === undefined) return false;
    if (this.seen.has(unique)) return true;
    this.seen.add(unique);
    if (this.seen.size > REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value as string);
    return false;
  }

  /**
   * Hands what a node's stream holds (a dead node's unread stanzas, or this node's own when it
   * leaves) to `handle`, oldest first, removing each entry only once it has been handled: a failure
   * halfway leaves the rest for the next attempt. An entry of a kind this release does not read stays
   * (see BusEntryReader, and `backlog`).
   */
  async drain(node: string, handle: (message: BusMessage) => Promise<void>): Promise<number> {
    const stream = this.keys.bus(node);
    let count = 0;
    // Past each entry in turn (an exclusive start, Redis 6.2), so that those left behind are not read again.
    for (let from = '-'; ;) {
      const entries = (await this.redis.xrange(stream, from, '+', 'COUNT', 500)) as Array<[string, string[]]>;
      if (entries.length === 0) return count;
      for (const [id, fields] of entries) {
        from = `(${id}`;
        const entry = this.entries.read(fields[1], stream);
        if (entry && 'unknownKind' in entry) continue;
        // This node's own entry, read and handed to a session whose client never confirmed it: routed
        // again (a client that did get it sees it twice, with the same stanza id).
        const ownUnsettled = node === this.node && this.unsettled.has(id);
        if (entry && (ownUnsettled || !this.repeated(fields[3]))) {
          await handle(entry.message);
          count++;
        }
        await this.redis.xdel(stream, id);
      }
    }
  }

  /** How many entries a node's stream holds (after a drain: those of kinds this release does not read). */
  async backlog(node: string): Promise<number> {
    return this.redis.xlen(this.keys.bus(node));
  }
}
