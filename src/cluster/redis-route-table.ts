import type Redis from 'ioredis';
import type { RouteEntry, RouteTable } from '../routing/route-table';
import type { RedisKeys } from './keys';

// Deletes a route only if it still names the node asking (a newer binding on another node stays).
const REMOVE_IF_OWNER = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
if cjson.decode(entry).node ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])`;

/**
 * user → resources, one Redis hash per user; each node also lists the users it has routes for.
 * The last answer for each user recently asked about is remembered (at most `cacheUsers`, least
 * recently used dropped first) and used only when Redis cannot answer: during a blip, messages keep
 * going to where their recipients were a moment ago instead of being refused.
 */
export class RedisRouteTable implements RouteTable {
  private readonly lastKnown = new Map<string, RouteEntry[]>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly cacheUsers = 100_000,
  ) {}

  async resources(bare: string): Promise<RouteEntry[]> {
    let entries: string[];
    try {
      entries = await this.redis.hvals(this.keys.routes(bare));
    } catch (err) {
      const known = this.lastKnown.get(bare);
      if (known) return known;
      throw err;
    }
    const routes = entries.map((json) => JSON.parse(json) as RouteEntry);
    this.remember(bare, routes);
    return routes;
  }

  private remember(bare: string, routes: RouteEntry[]): void {
    if (this.cacheUsers === 0) return;
    this.lastKnown.delete(bare);
    this.lastKnown.set(bare, routes);
    if (this.lastKnown.size > this.cacheUsers) this.lastKnown.delete(this.lastKnown.keys().next().value as string);
  }

  async put(bare: string, entry: RouteEntry): Promise<void> {
    await this.redis.multi().hset(this.keys.routes(bare), entry.resource, JSON.stringify(entry)).sadd(this.keys.nodeUsers(entry.node), bare).exec();
  }

  async remove(bare: string, resource: string, node: string): Promise<void> {
    await this.redis.eval(REMOVE_IF_OWNER, 1, this.keys.routes(bare), resource, node);
  }

  /** Removes every route of a dead node; returns the entries removed, by user. */
  async removeNode(node: string): Promise<Array<{ bare: string; entry: RouteEntry }>> {
    const removed: Array<{ bare: string; entry: RouteEntry }> = [];
    for (const bare of await this.redis.smembers(this.keys.nodeUsers(node))) {
      for (const entry of await this.resources(bare)) {
        if (entry.node !== node) continue;
        await this.remove(bare, entry.resource, node);
        removed.push({ bare, entry });
      }
      this.lastKnown.delete(bare);
    }
    await this.redis.del(this.keys.nodeUsers(node));
    return removed;
  }
}
