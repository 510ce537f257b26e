import type Redis from 'ioredis';
import { conversationHash, seqOfArchiveId } from '../archive-ids';
import type {
  ArchiveBounds,
  ArchivedMessage,
  ArchivedType,
  ArchiveEntry,
  ArchivePage,
  ArchiveQuery,
  ArchiveReceipt,
  ArchiveRetention,
  ArchiveStore,
  UnknownArchiveId,
} from '../archive-store';
import type { RedisArchiveKeys } from './archive-keys';

/** A message as one owner's hash holds it; its archive id is the field, its seq is in the id. */
interface Stored {
  readonly conversation: string;
  readonly with: string;
  readonly from: string;
  readonly to: string;
  readonly type: ArchivedType;
  readonly originId?: string;
  readonly body?: string;
  readonly stanza: string;
  readonly ts: number;
}

// One step for the whole message: the conversation's next number (INCR), then for each copy the
// owner's order (score: milliseconds × 1000, always above the owner's last, so an archive's order is
// its append order whatever the nodes' clocks), the message, the 'with' and conversation indexes, and
// the retention: messages beyond the count, and up to 100 past the age, go; with an age limit every
// key of the copy expires that long after its last write (by then all it holds is too old).
// KEYS: the sequence counter, then per copy: order, messages, index.
// ARGV: hash, ts, maxCount, maxAge, conversation, then per copy: with prefix, conversation prefix, with, JSON.
// The with and conversation keys are built here from their prefixes (one Redis, not Redis Cluster).
const APPEND = `
local seq = redis.call('INCR', KEYS[1])
local id = ARGV[1] .. '-' .. seq
local ts = tonumber(ARGV[2])
local maxCount = tonumber(ARGV[3])
local maxAge = tonumber(ARGV[4])
local conversation = ARGV[5]
for c = 0, (#KEYS - 1) / 3 - 1 do
  local order, messages, index = KEYS[2 + c * 3], KEYS[3 + c * 3], KEYS[4 + c * 3]
  local withPrefix, convPrefix, with, json = ARGV[6 + c * 4], ARGV[7 + c * 4], ARGV[8 + c * 4], ARGV[9 + c * 4]
  local withKey, convKey = withPrefix .. with, convPrefix .. conversation
  local score = ts * 1000
  local last = redis.call('ZRANGE', order, -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
  local scoreText = string.format('%.0f', score)
  redis.call('ZADD', order, scoreText, id)
  redis.call('HSET', messages, id, json)
  redis.call('ZADD', withKey, scoreText, id)
  redis.call('ZADD', convKey, seq, id)
  redis.call('SADD', index, withKey, convKey)
  local dropped = {}
  if maxAge > 0 then
    local cutoff = '(' .. string.format('%.0f', (ts - maxAge) * 1000)
    for _, old in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', cutoff, 'LIMIT', 0, 100)) do dropped[old] = true end
  end
  if maxCount > 0 then
    local over = redis.call('ZCARD', order) - maxCount
    if over > 0 then
      for _, old in ipairs(redis.call('ZRANGE', order, 0, over - 1)) do dropped[old] = true end
    end
  end
  for old in pairs(dropped) do
    local stored = redis.call('HGET', messages, old)
    if stored then
      local m = cjson.decode(stored)
      redis.call('ZREM', withPrefix .. m.with, old)
      redis.call('ZREM', convPrefix .. m.conversation, old)
    end
    redis.call('ZREM', order, old)
    redis.call('HDEL', messages, old)
  end
  if maxAge > 0 then
    for _, key in ipairs({ order, messages, index, withKey, convKey }) do redis.call('PEXPIRE', key, maxAge) end
  end
end
return seq`;

// Every key of an owner's archive at once. KEYS: order, messages, index.
const DELETE_OWNER = `
local keys = redis.call('SMEMBERS', KEYS[3])
for _, key in ipairs(keys) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return #keys`;

/** A score bound for ZRANGEBYSCORE: a value and whether it is excluded. */
interface Bound {
  readonly score: number;
  readonly exclusive: boolean;
}

/**
 * The archive in Redis (cluster mode): per owner a sorted set in archive order, a hash of the messages,
 * and sorted sets per party and per conversation; per conversation a counter. Bounded by the retention
 * count and age at every append and by key expiry, so an archive nobody writes to any more goes too.
 */
export class RedisArchiveStore implements ArchiveStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisArchiveKeys,
    private readonly retention: ArchiveRetention,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(entry: ArchiveEntry): Promise<ArchiveReceipt> {
    const ts = entry.ts ?? this.now();
    const hash = conversationHash(entry.conversation);
    const keys = [this.keys.seq(entry.conversation)];
    const args: (string | number)[] = [hash, ts.getTime(), this.retention.maxPerOwner, this.retention.maxAgeMs, entry.conversation];
    for (const copy of entry.copies) {
      keys.push(this.keys.order(copy.owner), this.keys.messages(copy.owner), this.keys.index(copy.owner));
      const stored: Stored = {
        conversation: entry.conversation,
        with: copy.with,
        from: entry.from,
        to: entry.to,
        type: entry.type,
        ...(entry.originId === undefined ? {} : { originId: entry.originId }),
        ...(entry.body === undefined ? {} : { body: entry.body }),
        stanza: entry.stanza,
        ts: ts.getTime(),
      };
      args.push(this.keys.withPrefix(copy.owner), this.keys.conversationPrefix(copy.owner), copy.with, JSON.stringify(stored));
    }
    const seq = (await this.redis.eval(APPEND, keys.length, ...keys, ...args)) as number;
    return { conversation: entry.conversation, seq, archiveId: `${hash}-${seq}`, ts };
  }

  async query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId> {
    const order = this.keys.order(query.owner);
    const named = [query.afterId, query.beforeId, query.after, query.before];
    const ids = named.filter((id): id is string => !!id);
    const scores = new Map<string, number>();
    if (ids.length > 0) {
      const found = await this.redis.zmscore(order, ...ids);
      for (const [i, id] of ids.entries()) {
        const score = found[i];
        if (score === null || score === undefined) return { unknownId: id };
        scores.set(id, Number(score));
      }
    }
    const scoreOf = (id: string | undefined): number | undefined => (id ? scores.get(id) : undefined);
    const ms = 1000;
    const { maxAgeMs } = this.retention;
    // The form's filters bound the results (and the count); RSM after/before then choose the page.
    const resultLower = highest([
      query.start && { score: query.start.getTime() * ms, exclusive: false },
      maxAgeMs > 0 ? { score: (this.now().getTime() - maxAgeMs) * ms, exclusive: false } : undefined,
      bound(scoreOf(query.afterId)),
    ]);
    const resultUpper = lowest([query.end && { score: query.end.getTime() * ms + ms - 1, exclusive: false }, bound(scoreOf(query.beforeId))]);
    const pageLower = highest([resultLower, bound(scoreOf(query.after))]);
    const pageUpper = lowest([resultUpper, bound(scoreOf(query.before))]);
    const source = query.with === undefined ? order : this.keys.withPrefix(query.owner) + query.with;
    const backward = query.before !== undefined;

    let page: string[];
    let complete: boolean;
    let count: number | undefined;
    if (query.ids) {
      // Only the named messages: their places, filtered and paged here.
      const wanted = [...new Set(query.ids)];
      const places = wanted.length > 0 ? await this.redis.zmscore(source, ...wanted) : [];
      const matching = wanted
        .map((id, i) => ({ id, score: places[i] }))
        .filter((m): m is { id: string; score: string } => typeof m.score === 'string')
        .map((m) => ({ id: m.id, score: Number(m.score) }))
        .sort((a, b) => a.score - b.score);
      count = matching.filter((m) => within(m.score, resultLower, resultUpper)).length;
      const inPage = matching.filter((m) => within(m.score, pageLower, pageUpper)).map((m) => m.id);
      page = backward ? inPage.slice(Math.max(0, inPage.length - query.limit)) : inPage.slice(0, query.limit);
      complete = inPage.length <= query.limit;
    } else {
      const min = text(pageLower, '-inf');
      const max = text(pageUpper, '+inf');
      const [ranged, counted] = (await this.redis
        .multi()
        .call(backward ? 'ZREVRANGEBYSCORE' : 'ZRANGEBYSCORE', source, backward ? max : min, backward ? min : max, 'LIMIT', 0, query.limit + 1)
        .zcount(source, text(resultLower, '-inf'), text(resultUpper, '+inf'))
        .exec()) as [[Error | null, string[]], [Error | null, number]];
      if (ranged[0]) throw ranged[0];
      const found = ranged[1];
      complete = found.length <= query.limit;
      page = found.slice(0, query.limit);
      if (backward) page.reverse();
      count = counted[1];
    }
    const messages = await this.load(query.owner, page);
    return { messages, complete, count };
  }

  async since(owner: string, conversation: string, afterSeq: number, limit: number): Promise<ArchivedMessage[]> {
    const key = this.keys.conversationPrefix(owner) + conversation;
    const ids = await this.redis.zrangebyscore(key, `(${afterSeq}`, '+inf', 'LIMIT', 0, limit);
    return this.load(owner, ids);
  }

  async lastSeq(conversation: string): Promise<number> {
    return Number((await this.redis.get(this.keys.seq(conversation))) ?? 0);
  }

  async bounds(owner: string): Promise<ArchiveBounds> {
    const order = this.keys.order(owner);
    const [first, last] = await Promise.all([this.redis.zrange(order, 0, 0), this.redis.zrange(order, -1, -1)]);
    const ends = await this.load(owner, [...first, ...last]);
    const [oldest, newest] = [ends[0], ends[ends.length - 1]];
    return {
      ...(oldest ? { first: { archiveId: oldest.archiveId, ts: oldest.ts } } : {}),
      ...(newest ? { last: { archiveId: newest.archiveId, ts: newest.ts } } : {}),
    };
  }

  /** Nothing to sweep: every append trims its archives, and an archive left alone expires whole. */
  async prune(): Promise<number> {
    return 0;
  }

  /** Nothing pending: every append is one step in Redis. */
  async flush(): Promise<void> {}

  async deleteOwner(owner: string): Promise<void> {
    await this.redis.eval(DELETE_OWNER, 3, this.keys.order(owner), this.keys.messages(owner), this.keys.index(owner));
  }

  /** The messages of these ids, in this order; any gone meanwhile (retention) are left out. */
  private async load(owner: string, ids: readonly string[]): Promise<ArchivedMessage[]> {
    if (ids.length === 0) return [];
    const stored = await this.redis.hmget(this.keys.messages(owner), ...ids);
    const messages: ArchivedMessage[] = [];
    for (const [i, json] of stored.entries()) {
      const archiveId = ids[i];
      if (json === null || archiveId === undefined) continue;
      const m = JSON.parse(json) as Stored;
      messages.push({
        owner,
        conversation: m.conversation,
        seq: seqOfArchiveId(archiveId) ?? 0,
        archiveId,
        with: m.with,
        from: m.from,
        to: m.to,
        type: m.type,
        stanza: m.stanza,
        ts: new Date(m.ts),
        ...(m.originId === undefined ? {} : { originId: m.originId }),
        ...(m.body === undefined ? {} : { body: m.body }),
      });
    }
    return messages;
  }
}

function bound(score: number | undefined): Bound | undefined {
  return score === undefined ? undefined : { score, exclusive: true };
}

/** The tightest lower bound: the highest, and exclusive when an exclusive one ties. */
function highest(bounds: readonly (Bound | undefined | 0)[]): Bound | undefined {
  let best: Bound | undefined;
  for (const b of bounds) {
    if (!b) continue;
    if (!best || b.score > best.score || (b.score === best.score && b.exclusive)) best = b;
  }
  return best;
}

/** The tightest upper bound: the lowest, and exclusive when an exclusive one ties. */
function lowest(bounds: readonly (Bound | undefined | 0)[]): Bound | undefined {
  let best: Bound | undefined;
  for (const b of bounds) {
    if (!b) continue;
    if (!best || b.score < best.score || (b.score === best.score && b.exclusive)) best = b;
  }
  return best;
}

function within(score: number, lower: Bound | undefined, upper: Bound | undefined): boolean {
  const aboveLower = !lower || (lower.exclusive ? score > lower.score : score >= lower.score);
  const belowUpper = !upper || (upper.exclusive ? score < upper.score : score <= upper.score);
  return aboveLower && belowUpper;
}

function text(b: Bound | undefined, open: string): string {
  if (!b) return open;
  return `${b.exclusive ? '(' : ''}${b.score.toFixed(0)}`;
}
