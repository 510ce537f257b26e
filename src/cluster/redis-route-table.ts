import type Redis from 'ioredis';
import type { RouteEntry, RouteTable } from '../routing/route-table';
import type { RedisKeys } from './keys';

// Deletes a route only if it still names the node asking (a newer binding on another node stays).
const REMOVE_IF_OWNER = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
if cjson.decode(entry).node ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])`;

/** user → resources, one Redis hash per user; each node also lists the users it has routes for. */
export class RedisRouteTable implements RouteTable {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async resources(bare: string): Promise<RouteEntry[]> {
    const entries = await this.redis.hvals(this.keys.routes(bare));
    return entries.map((json) => JSON.parse(json) as RouteEntry);
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
    }
    await this.redis.del(this.keys.nodeUsers(node));
    return removed;
  }
}
