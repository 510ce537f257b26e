import type Redis from 'ioredis';
import type { FailureCounters, MemoryFailureCounters } from '../limits/failure-counters';
import type { Logger } from '../observability/logger';
import type { RedisKeys } from './keys';

/** A hung Redis must not hold a login up: past this, the local count answers. */
const REDIS_ANSWER_MS = 500;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The throttle's failure counters shared by every node of the cluster: INCR and PEXPIRE of each key
 * in one MULTI, so a count never lives without its expiry. This node also counts locally, so that
 * while Redis is unreachable its own counts answer (logins go on, throttled per node, with what the
 * node saw before the outage) instead of the login being refused.
 */
export class RedisFailureCounters implements FailureCounters {
  private degraded = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
    private readonly local: MemoryFailureCounters,
    private readonly logger: Logger,
  ) {}

  async increment(keys: readonly string[]): Promise<number[]> {
    const local = this.local.incrementNow(keys);
    try {
      const multi = this.redis.multi();
      for (const key of keys) multi.incr(this.keys.authFailures(key)).pexpire(this.keys.authFailures(key), this.ttlMs);
      const replies = await within(multi.exec(), REDIS_ANSWER_MS);
      if (!replies) throw new Error('transaction aborted');
      const shared = keys.map((_key, i) => {
        const [err, count] = replies[2 * i] as [Error | null, unknown];
        if (err) throw err;
        return Number(count);
      });
      this.recovered();
      return shared;
    } catch (err) {
      this.failed(err);
      return local;
    }
  }

  async clear(key: string): Promise<void> {
    await this.local.clear(key);
    try {
      await within(this.redis.del(this.keys.authFailures(key)), REDIS_ANSWER_MS);
      this.recovered();
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn({ err: (err as Error).message }, 'login failure counters unavailable in Redis: counting on this node only');
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.info('login failure counters shared through Redis again');
  }
}
