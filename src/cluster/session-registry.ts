import type Redis from 'ioredis';
import type { RedisKeys } from './keys';

/** sid → owning node, shared by the cluster, so any node can find the node holding a session. */
export class SessionRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly node: string,
  ) {}

  async register(sid: string): Promise<void> {
    await this.redis.multi().set(this.keys.sid(sid), this.node).sadd(this.keys.nodeSids(this.node), sid).exec();
  }

  async unregister(sid: string): Promise<void> {
    await this.redis.multi().del(this.keys.sid(sid)).srem(this.keys.nodeSids(this.node), sid).exec();
  }

  owner(sid: string): Promise<string | null> {
    return this.redis.get(this.keys.sid(sid));
  }

  /** Forgets every sid of a dead node; returns how many. */
  async removeNode(node: string): Promise<number> {
    const sids = await this.redis.smembers(this.keys.nodeSids(node));
    if (sids.length > 0) await this.redis.del(...sids.map((sid) => this.keys.sid(sid)));
    await this.redis.del(this.keys.nodeSids(node));
    return sids.length;
  }
}
