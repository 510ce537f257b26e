import type Redis from 'ioredis';
import type { OfflineMessage, OfflineStore } from '../offline-store';
import type { RedisStoreKeys } from './store-keys';

// Appends only while the list is below the count limit and its stanzas' bytes (kept beside it in
// KEYS[2]) stay within the byte limit, atomically (no over-fill when nodes race).
const BOUNDED_PUSH = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[4])
if bytes > tonumber(ARGV[3]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], bytes)
return 1`;

// Reads and deletes the whole list (and its byte count) in one step, so two logins never both get the messages.
const TAKE_ALL = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
return items`;

/** Offline messages in Redis: one list per user, bounded. */
export class RedisOfflineStore implements OfflineStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisStoreKeys,
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.MAX_SAFE_INTEGER,
  ) {}

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    const entry = JSON.stringify({ stanza: message.stanza, storedAt: message.storedAt.toISOString() });
    const size = Buffer.byteLength(message.stanza);
    const keys = [this.keys.offline(user), this.keys.offlineBytes(user)];
    return (await this.redis.eval(BOUNDED_PUSH, 2, ...keys, entry, this.limitPerUser, this.maxBytesPerUser, size)) === 1;
  }

  async take(user: string): Promise<OfflineMessage[]> {
    const items = (await this.redis.eval(TAKE_ALL, 2, this.keys.offline(user), this.keys.offlineBytes(user))) as string[];
    return items.map((json) => {
      const parsed = JSON.parse(json) as { stanza: string; storedAt: string };
      return { stanza: parsed.stanza, storedAt: new Date(parsed.storedAt) };
    });
  }

  count(user: string): Promise<number> {
    return this.redis.llen(this.keys.offline(user));
  }

  async deleteUser(user: string): Promise<void> {
    // One DEL of both keys is atomic: the list never outlives its byte count, nor the reverse.
    await this.redis.del(this.keys.offline(user), this.keys.offlineBytes(user));
  }
}
