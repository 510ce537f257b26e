import Redis, { type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';

/** Counts what the metrics report about Redis. */
export interface RedisObserver {
  commandFailed(): void;
  reconnected(): void;
}

/**
 * A Redis connection that fails fast: while Redis is unreachable, commands reject at once (no
 * offline queue) so callers answer with a defined error instead of hanging; ioredis keeps
 * reconnecting in the background.
 */
export interface RedisTarget {
  readonly url: string;
  /** With Sentinel: ask these for the master named `sentinelName`; the URL gives credentials and db. */
  readonly sentinels?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly sentinelName?: string;
}

/**
 * How long ioredis waits before reconnect attempt `attempt` (1, 2, …). A restart of Redis takes about
 * a second, and everything cross-node waits for the reconnection (bus messages in the outbox, the
 * bus reader), so for the first 10 s a lost connection is tried again at most 250 ms apart; a longer
 * outage is tried every second.
 */
export function reconnectDelayMs(attempt: number): number {
  return attempt <= 40 ? Math.min(50 * attempt, 250) : 1000;
}

export function createRedis(target: RedisTarget, name: string, logger: Logger, observer?: RedisObserver, blocking = false): Redis {
  const options: RedisOptions = {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: blocking ? null : 1,
    retryStrategy: reconnectDelayMs,
    lazyConnect: false,
  };
  let redis: Redis;
  if (target.sentinels && target.sentinels.length > 0) {
    const url = new URL(target.url);
    redis = new Redis({
      ...options,
      sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: target.sentinelName ?? 'mymaster',
      username: url.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: Number(url.pathname.slice(1) || 0),
      tls: url.protocol === 'rediss:' ? {} : undefined,
    });
  } else {
    redis = new Redis(target.url, options);
  }
  let wasReady = false;
  redis.on('ready', () => {
    if (wasReady) {
      observer?.reconnected();
      logger.info({ connection: name }, 'redis reconnected');
    }
    wasReady = true;
  });
  redis.on('error', (err: Error) => {
    observer?.commandFailed();
    logger.debug({ connection: name, err: err.message }, 'redis error');
  });
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new Error(`redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const ready = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', ready);
  });
}
