import type Redis from 'ioredis';
import { announcedBusKinds, BUS_MESSAGE_KINDS, busKindsAnnouncement } from '../routing/bus-kinds';
import type { RedisKeys } from './keys';

// Deletes a lock only when its value is still this node's (another may have taken it since it expired).
const UNLOCK_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface MembershipTiming {
  /** How often a node renews its heartbeat. */
  readonly heartbeatMs: number;
  /** How long a heartbeat lasts: a node silent this long is dead. */
  readonly ttlMs: number;
}

/**
 * Node liveness: each node renews a key with a short expiry. A missing key is not proof of death on
 * its own: a Redis restart (or fail-over) can lose or expire every heartbeat at once while every node
 * is fine. A node is dead only once its key has been seen missing, continuously, for a whole TTL from
 * here — time in which a live node reconnects and beats again.
 * Answers are cached briefly so routing does not ask Redis for every stanza.
 *
 * With its heartbeat a node announces the kinds of bus message it reads (a key of its own, same
 * expiry), so that during a rolling upgrade a sender never writes a node a kind it does not read. It
 * is read together with the heartbeat, in the same round trip and the same cache.
 */
export class Membership {
  private readonly cache = new Map<string, { alive: boolean; kinds: ReadonlySet<string>; until: number }>();
  /** What this node reads, as it announces it. */
  readonly ownKinds: ReadonlySet<string>;
  /** When each node's heartbeat was first seen missing (cleared when seen again). */
  private readonly missingSince = new Map<string, number>();
  private graceUntil = 0;
  /** Called when this node finds it was taken for dead and reaped (its id was gone from the node set). */
  onReaped: (() => void) | undefined;
  /** The URLs of the nodes alive at the last look (kept through a Redis outage). */
  private readonly peers = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly node: string,
    private readonly internalUrl: string,
    private readonly timing: MembershipTiming,
    kinds: readonly string[] = BUS_MESSAGE_KINDS,
  ) {
    this.ownKinds = new Set(kinds);
  }

  async join(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // (Re)connected, perhaps after a Redis restart: peers get a TTL to reconnect and beat before
    // their missing heartbeats count.
    this.missingSince.clear();
    this.graceUntil = Date.now() + this.timing.ttlMs;
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch(() => undefined);
    }, this.timing.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const replies = await this.redis
      .multi()
      .set(this.keys.alive(this.node), this.internalUrl, 'PX', this.timing.ttlMs)
      .sadd(this.keys.nodes(), this.node)
      .set(this.keys.busKinds(this.node), busKindsAnnouncement([...this.ownKinds]), 'PX', this.timing.ttlMs)
      .exec();
    // Re-added to the node set: a reaper removed us (we were frozen, or cut off, past the TTL).
    if (this.timer && replies?.[1]?.[1] === 1) this.onReaped?.();
  }

  /** Stops beating. The node stays in the node set, so the reaper cleans up whatever reaches it later. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.del(this.keys.alive(this.node), this.keys.busKinds(this.node));
  }

  async isAlive(node: string): Promise<boolean> {
    if (node === this.node) return true;
    return (await this.look(node)).alive;
  }

  /** The kinds of bus message a node reads (its announcement; routing/bus-kinds.ts for a node without one). */
  async busKinds(node: string): Promise<ReadonlySet<string>> {
    if (node === this.node) return this.ownKinds;
    return (await this.look(node)).kinds;
  }

  /** A node's heartbeat and announcement, one round trip at most every half second per node. */
  private async look(node: string): Promise<{ alive: boolean; kinds: ReadonlySet<string> }> {
    const cached = this.cache.get(node);
    const now = Date.now();
    if (cached && cached.until > now) return cached;
    const [url, announcement] = await this.redis.mget(this.keys.alive(node), this.keys.busKinds(node));
    const seen = { alive: !this.observe(node, url !== null && url !== undefined), kinds: announcedBusKinds(announcement) };
    this.cache.set(node, { ...seen, until: now + Math.min(500, this.timing.heartbeatMs) });
    return seen;
  }

  /** Records whether a node's heartbeat is there; returns whether it is dead (missing for a whole TTL). */
  private observe(node: string, beating: boolean): boolean {
    if (beating) {
      this.missingSince.delete(node);
      return false;
    }
    const now = Date.now();
    const since = this.missingSince.get(node) ?? Math.max(now, this.graceUntil);
    this.missingSince.set(node, since);
    return now - since >= this.timing.ttlMs;
  }

  /**
   * The internal URL of a live node, or null when it is dead. A node whose heartbeat is missing but
   * not yet for a TTL keeps the address it was last seen at (undefined when none is known).
   */
  async urlOf(node: string): Promise<string | null | undefined> {
    const url = await this.redis.get(this.keys.alive(node));
    if (url) {
      this.observe(node, true);
      this.peers.set(node, url);
      return url;
    }
    return this.observe(node, false) ? null : this.peers.get(node);
  }

  /** Nodes that joined and whose heartbeat has been missing for a whole TTL. */
  async deadNodes(): Promise<string[]> {
    const nodes = (await this.redis.smembers(this.keys.nodes())).filter((n) => n !== this.node);
    if (nodes.length === 0) return [];
    const alive = await this.redis.mget(...nodes.map((n) => this.keys.alive(n)));
    return nodes.filter((node, i) => {
      const url = alive[i];
      if (url) this.peers.set(node, url);
      return this.observe(node, Boolean(url));
    });
  }

  /** A node's URL as last seen alive, without asking Redis. */
  lastKnownUrl(node: string): string | undefined {
    return this.peers.get(node);
  }

  /** One node reaps a dead node: whoever takes the lock. */
  async lockReap(node: string): Promise<boolean> {
    return (await this.redis.set(this.keys.reapLock(node), this.node, 'PX', 30_000, 'NX')) === 'OK';
  }

  /** Gives the reap lock of `node` back, if this node still holds it. */
  async unlockReap(node: string): Promise<void> {
    await this.redis.eval(UNLOCK_IF_HELD, 1, this.keys.reapLock(node), this.node);
  }

  async forget(node: string): Promise<void> {
    await this.redis.srem(this.keys.nodes(), node);
    this.missingSince.delete(node);
    this.peers.delete(node);
  }
}
