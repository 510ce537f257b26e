import type Redis from 'ioredis';
import type { RedisKeys } from './keys';

export interface MembershipTiming {
  /** How often a node renews its heartbeat. */
  readonly heartbeatMs: number;
  /** How long a heartbeat lasts: a node silent this long is dead. */
  readonly ttlMs: number;
}

/**
 * Node liveness: each node renews a key with a short expiry; a node whose key expired is dead.
 * Answers are cached briefly so routing does not ask Redis for every stanza.
 */
export class Membership {
  private readonly cache = new Map<string, { alive: boolean; until: number }>();
  /** The URLs of the nodes alive at the last look (kept through a Redis outage). */
  private readonly peers = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly node: string,
    private readonly internalUrl: string,
    private readonly timing: MembershipTiming,
  ) {}

  async join(): Promise<void> {
    await this.beat();
    await this.redis.sadd(this.keys.nodes(), this.node);
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.beat().catch(() => undefined);
    }, this.timing.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.redis.set(this.keys.alive(this.node), this.internalUrl, 'PX', this.timing.ttlMs);
  }

  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.multi().del(this.keys.alive(this.node)).srem(this.keys.nodes(), this.node).exec();
  }

  async isAlive(node: string): Promise<boolean> {
    if (node === this.node) return true;
    const cached = this.cache.get(node);
    const now = Date.now();
    if (cached && cached.until > now) return cached.alive;
    const alive = (await this.redis.exists(this.keys.alive(node))) === 1;
    this.cache.set(node, { alive, until: now + Math.min(500, this.timing.heartbeatMs) });
    return alive;
  }

  /** The internal URL of a live node, or null when it is dead. */
  urlOf(node: string): Promise<string | null> {
    return this.redis.get(this.keys.alive(node));
  }

  /** Nodes that joined and whose heartbeat has lapsed. */
  async deadNodes(): Promise<string[]> {
    const nodes = (await this.redis.smembers(this.keys.nodes())).filter((n) => n !== this.node);
    if (nodes.length === 0) return [];
    const alive = await this.redis.mget(...nodes.map((n) => this.keys.alive(n)));
    nodes.forEach((node, i) => {
      const url = alive[i];
      if (url) this.peers.set(node, url);
      else this.peers.delete(node);
    });
    return nodes.filter((_, i) => alive[i] === null);
  }

  /** A node's URL as last seen alive, without asking Redis. */
  lastKnownUrl(node: string): string | undefined {
    return this.peers.get(node);
  }

  /** One node reaps a dead node: whoever takes the lock. */
  async lockReap(node: string): Promise<boolean> {
    return (await this.redis.set(this.keys.reapLock(node), this.node, 'PX', 30_000, 'NX')) === 'OK';
  }

  async forget(node: string): Promise<void> {
    await this.redis.srem(this.keys.nodes(), node);
  }
}
