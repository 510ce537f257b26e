import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { LeasedMessage, OfflineMessage, OfflineStore } from '../offline-store';
import type { RedisStoreKeys } from './store-keys';

// One user's messages are a list of JSON entries, oldest first: { stanza, storedAt, id, leasedUntil }.
// `leasedUntil` (epoch ms) is set while a lease holds the entry; entries kept by an earlier release
// have no id until their first lease gives them one. Every script below reads and writes the list
// in one atomic step, so two nodes never lease the same entry and the byte count never drifts.

// Appends only while the list is below the count limit and its stanzas' bytes (kept beside it in
// KEYS[2]) stay within the byte limit, atomically (no over-fill when nodes race).
const BOUNDED_PUSH = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[4])
if bytes > tonumber(ARGV[3]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], bytes)
return 1`;

// Marks every entry no lease holds (ARGV[1]: now) as leased until ARGV[2] and returns them; an entry
// without an id gets ARGV[3].<position>.
const LEASE = `
local now = tonumber(ARGV[1])
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local leased = {}
for i, raw in ipairs(items) do
  local entry = cjson.decode(raw)
  if (tonumber(entry.leasedUntil) or 0) <= now then
    if entry.id == nil then entry.id = ARGV[3] .. '.' .. i end
    entry.leasedUntil = tonumber(ARGV[2])
    local updated = cjson.encode(entry)
    redis.call('LSET', KEYS[1], i - 1, updated)
    leased[#leased + 1] = updated
  end
end
return leased`;

// Removes the entries whose ids are in ARGV and takes their stanzas' bytes off KEYS[2] (a Lua string's
// length is its bytes: the UTF-8 length the push counted).
const SETTLE = `
local settled = {}
for i = 1, #ARGV do settled[ARGV[i]] = true end
local removed = 0
local freed = 0
for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local entry = cjson.decode(raw)
  if entry.id ~= nil and settled[entry.id] then
    redis.call('LREM', KEYS[1], 1, raw)
    removed = removed + 1
    freed = freed + string.len(entry.stanza)
  end
end
if removed == 0 then return 0 end
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
else
  local bytes = tonumber(redis.call('GET', KEYS[2]) or '0') - freed
  if bytes < 0 then bytes = 0 end
  redis.call('SET', KEYS[2], bytes)
end
return removed`;

// Ends the lease of the entries whose ids are in ARGV.
const RELEASE = `
local released = {}
for i = 1, #ARGV do released[ARGV[i]] = true end
for i, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local entry = cjson.decode(raw)
  if entry.id ~= nil and released[entry.id] and entry.leasedUntil ~= nil then
    entry.leasedUntil = nil
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(entry))
  end
end
return 0`;

interface Entry {
  readonly stanza: string;
  readonly storedAt: string;
  readonly id: string;
}

/** Offline messages in Redis: one list per user, bounded, handed over under leases. */
export class RedisOfflineStore implements OfflineStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisStoreKeys,
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.MAX_SAFE_INTEGER,
    /** The clock leases run on (the nodes' clocks: a lease is minutes long, far beyond their skew). */
    private readonly now: () => number = Date.now,
  ) {}

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    const entry = JSON.stringify({ stanza: message.stanza, storedAt: message.storedAt.toISOString(), id: randomUUID() });
    const size = Buffer.byteLength(message.stanza);
    const keys = [this.keys.offline(user), this.keys.offlineBytes(user)];
    return (await this.redis.eval(BOUNDED_PUSH, 2, ...keys, entry, this.limitPerUser, this.maxBytesPerUser, size)) === 1;
  }

  async lease(user: string, leaseMs: number): Promise<LeasedMessage[]> {
    const now = this.now();
    const items = (await this.redis.eval(LEASE, 1, this.keys.offline(user), now, now + leaseMs, randomUUID())) as string[];
    return items.map((json) => {
      const entry = JSON.parse(json) as Entry;
      return { id: entry.id, stanza: entry.stanza, storedAt: new Date(entry.storedAt) };
    });
  }

  async settle(user: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.eval(SETTLE, 2, this.keys.offline(user), this.keys.offlineBytes(user), ...ids);
  }

  async release(user: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.eval(RELEASE, 1, this.keys.offline(user), ...ids);
  }

  count(user: string): Promise<number> {
    return this.redis.llen(this.keys.offline(user));
  }

  async deleteUser(user: string): Promise<void> {
    // One DEL of both keys is atomic: the list never outlives its byte count, nor the reverse.
    await this.redis.del(this.keys.offline(user), this.keys.offlineBytes(user));
  }
}
