import type Redis from 'ioredis';
import type { DeadLetter, EnqueueEntry, QueuedDelivery, QueueStats, WebhookQueue, WebhookSinkRecord, WebhookSinkStore, WebhookStores } from '../webhook-store';

/** The consumer group every node reads a sink's stream through: one group, so each event goes to one node. */
const GROUP = 'delivery';

/** The Redis keys of webhooks, under the cluster's prefix (REDIS_PREFIX). */
export class RedisWebhookKeys {
  constructor(private readonly prefix: string) {}

  /** Hash of sink id → JSON record. */
  sinks(): string {
    return `${this.prefix}webhooks:sinks`;
  }
  /** The sink's queue: a stream whose entries carry `p` (the payload) and `t` (enqueued at, ms). */
  queue(sinkId: string): string {
    return `${this.prefix}webhooks:queue:${sinkId}`;
  }
  /** Hash of stream id → failed attempts. */
  attempts(sinkId: string): string {
    return `${this.prefix}webhooks:attempts:${sinkId}`;
  }
  /** List of JSON dead letters, oldest first. */
  dead(sinkId: string): string {
    return `${this.prefix}webhooks:dead:${sinkId}`;
  }
}

/** Sinks shared by every node: one hash. */
export class RedisWebhookSinkStore implements WebhookSinkStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisWebhookKeys,
  ) {}

  async put(sink: WebhookSinkRecord): Promise<void> {
    await this.redis.hset(this.keys.sinks(), sink.id, JSON.stringify(sink));
  }

  async get(id: string): Promise<WebhookSinkRecord | undefined> {
    const json = await this.redis.hget(this.keys.sinks(), id);
    return json === null ? undefined : (JSON.parse(json) as WebhookSinkRecord);
  }

  async list(): Promise<WebhookSinkRecord[]> {
    const records = Object.values(await this.redis.hgetall(this.keys.sinks())).map((json) => JSON.parse(json) as WebhookSinkRecord);
    return records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.sinks(), id)) > 0;
  }
}

// Dead letters go back to the stream's tail and the list is emptied in one step: a replay racing
// another replay on another node cannot queue a letter twice.
const REPLAY = `
local letters = redis.call('LRANGE', KEYS[2], 0, -1)
for _, json in ipairs(letters) do
  local letter = cjson.decode(json)
  redis.call('XADD', KEYS[1], '*', 'p', letter.payload, 't', ARGV[1])
end
redis.call('DEL', KEYS[2])
return #letters`;

type StreamEntry = [id: string, fields: string[] | null];

/**
 * Cluster mode: each sink's queue is a stream read through one consumer group, each node a consumer
 * named by its node id. An entry stays in the reading node's pending list until it is acknowledged
 * (delivered, or moved to the dead letters) and deleted, so it is delivered at least once per sink
 * whichever node reads it. Entries a consumer has held without a sign of life for `claimIdleMs` are
 * taken over by the next node that looks (XAUTOCLAIM): a node that died mid-delivery loses nothing. A
 * working consumer keeps its entries fresh (`keep`, XCLAIM JUSTID) while it waits between retries.
 */
export class RedisWebhookQueue implements WebhookQueue {
  private readonly grouped = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisWebhookKeys,
    private readonly consumer: string,
    private readonly claimIdleMs: number,
    private readonly maxDeadLetters: number,
  ) {}

  async enqueue(entries: readonly EnqueueEntry[], at: number): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { sinkId, payload } of entries) pipeline.xadd(this.keys.queue(sinkId), '*', 'p', payload, 't', String(at));
    await execOrThrow(pipeline);
  }

  async take(sinkId: string, max: number): Promise<QueuedDelivery[]> {
    await this.ensureGroup(sinkId);
    try {
      return await this.takeGrouped(sinkId, max);
    } catch (err) {
      // The stream was purged (the sink deleted, perhaps on another node) and written again since.
      if (!String((err as Error).message).includes('NOGROUP')) throw err;
      this.grouped.delete(sinkId);
      await this.ensureGroup(sinkId);
      return this.takeGrouped(sinkId, max);
    }
  }

  private async takeGrouped(sinkId: string, max: number): Promise<QueuedDelivery[]> {
    const key = this.keys.queue(sinkId);
    // What this consumer already holds comes first (a batch under retry, or held before a restart).
    let entries = await this.read(key, max, '0');
    if (entries.length === 0) {
      const claimed = (await this.redis.call('XAUTOCLAIM', key, GROUP, this.consumer, String(this.claimIdleMs), '0-0', 'COUNT', String(max))) as [
        string,
        StreamEntry[],
        string[]?,
      ];
      entries = claimed[1];
    }
    if (entries.length === 0) entries = await this.read(key, max, '>');
    const live = entries.filter((entry): entry is [string, string[]] => entry[1] !== null);
    const gone = entries.filter((entry) => entry[1] === null).map(([id]) => id);
    // An entry deleted while pending (acknowledged by a node that lost its claim) is only cleaned up.
    if (gone.length > 0) await this.redis.xack(key, GROUP, ...gone);
    if (live.length === 0) return [];
    const attempts = await this.redis.hmget(this.keys.attempts(sinkId), ...live.map(([id]) => id));
    return live.map(([id, fields], index) => {
      const field = fieldsOf(fields);
      return { seq: id, payload: field.p ?? '', enqueuedAt: Number(field.t ?? id.split('-')[0]), attempts: Number(attempts[index] ?? 0) };
    });
  }

  async keep(sinkId: string, seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.redis.call('XCLAIM', this.keys.queue(sinkId), GROUP, this.consumer, '0', ...seqs, 'JUSTID');
  }

  async attempted(sinkId: string, seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const seq of seqs) pipeline.hincrby(this.keys.attempts(sinkId), seq, 1);
    await execOrThrow(pipeline);
  }

  async ack(sinkId: string, seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    const key = this.keys.queue(sinkId);
    await execOrThrow(
      this.redis
        .multi()
        .xack(key, GROUP, ...seqs)
        .xdel(key, ...seqs)
        .hdel(this.keys.attempts(sinkId), ...seqs),
    );
  }

  async bury(sinkId: string, items: readonly QueuedDelivery[], reason: string, at: number): Promise<void> {
    if (items.length === 0) return;
    const key = this.keys.queue(sinkId);
    const seqs = items.map((item) => item.seq);
    const letters = items.map((item) => JSON.stringify({ ...item, failedAt: at, reason } satisfies DeadLetter));
    await execOrThrow(
      this.redis
        .multi()
        .rpush(this.keys.dead(sinkId), ...letters)
        .ltrim(this.keys.dead(sinkId), -this.maxDeadLetters, -1)
        .xack(key, GROUP, ...seqs)
        .xdel(key, ...seqs)
        .hdel(this.keys.attempts(sinkId), ...seqs),
    );
  }

  async deadLetters(sinkId: string, limit: number): Promise<DeadLetter[]> {
    if (limit <= 0) return [];
    return (await this.redis.lrange(this.keys.dead(sinkId), 0, limit - 1)).map((json) => JSON.parse(json) as DeadLetter);
  }

  async replay(sinkId: string, at: number): Promise<number> {
    return Number(await this.redis.eval(REPLAY, 2, this.keys.queue(sinkId), this.keys.dead(sinkId), String(at)));
  }

  async stats(sinkId: string): Promise<QueueStats> {
    const key = this.keys.queue(sinkId);
    const [depth, first] = await Promise.all([this.redis.xlen(key), this.redis.xrange(key, '-', '+', 'COUNT', 1)]);
    const head = first[0];
    return { depth, oldestAt: head ? Number(fieldsOf(head[1]).t ?? head[0].split('-')[0]) : undefined };
  }

  async purge(sinkId: string): Promise<void> {
    await this.redis.del(this.keys.queue(sinkId), this.keys.attempts(sinkId), this.keys.dead(sinkId));
    this.grouped.delete(sinkId);
  }

  private async read(key: string, max: number, from: '0' | '>'): Promise<StreamEntry[]> {
    const reply = (await this.redis.call('XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', String(max), 'STREAMS', key, from)) as
      [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async ensureGroup(sinkId: string): Promise<void> {
    if (this.grouped.has(sinkId)) return;
    try {
      // From the stream's start: entries added before the group existed are delivered too.
      await this.redis.xgroup('CREATE', this.keys.queue(sinkId), GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.grouped.add(sinkId);
  }
}

export function redisWebhookStores(redis: Redis, prefix: string, consumer: string, claimIdleMs: number, maxDeadLetters: number): WebhookStores {
  const keys = new RedisWebhookKeys(prefix);
  return { sinks: new RedisWebhookSinkStore(redis, keys), queue: new RedisWebhookQueue(redis, keys, consumer, claimIdleMs, maxDeadLetters) };
}

function fieldsOf(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
  return out;
}

async function execOrThrow(batch: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<void> {
  const results = await batch.exec();
  const failed = results?.find(([err]) => err !== null);
  if (failed) throw failed[0] as Error;
}
