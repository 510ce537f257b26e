import type Redis from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { MemoryFailureCounters, type FailureCounters } from '../limits/failure-counters';
import { ClusterNode } from './cluster-node';
import { FORWARD_TIMEOUT_MARGIN_SECONDS, type ForwardObserver } from './forwarder';
import { RedisKeys } from './keys';
import type { JournalObserver } from './redis-journal';
import { createRedis, whenReady, type RedisObserver } from '../redis/redis-client';
import { RedisFailureCounters } from './redis-failure-counters';

export { ClusterNode } from './cluster-node';

export interface ClusterSetup {
  readonly cluster: ClusterNode;
  /** Failed-login counters of the brute-force throttle, shared by every node. */
  readonly authFailures: FailureCounters;
  /** Whether the connection to Redis is up (readiness). */
  redisReady(): boolean;
  close(): Promise<void>;
}

/**
 * Cluster mode: the shared, hot state — registry, route table, bus, journal, membership, login-failure counters —
 * on the Redis at REDIS_URL. The durable stores are not here (src/store/create-stores.ts).
 */
export async function connectCluster(
  config: Config,
  nodeUrl: string,
  metrics: ForwardObserver & RedisObserver & JournalObserver,
  logger: Logger,
): Promise<ClusterSetup> {
  const target = { url: config.redisUrl as string, sentinels: config.redisSentinels, sentinelName: config.redisSentinelName };
  const redis: Redis = createRedis(target, `${config.cluster.nodeId}:main`, logger, metrics);
  const busReader: Redis = createRedis(target, `${config.cluster.nodeId}:bus`, logger, undefined, true);
  try {
    await Promise.all([whenReady(redis, 10_000), whenReady(busReader, 10_000)]);
  } catch (err) {
    redis.disconnect();
    busReader.disconnect();
    throw new Error(`cannot reach Redis at REDIS_URL: ${(err as Error).message}`);
  }
  const keys = new RedisKeys(config.cluster.redisPrefix);
  const failureTtlMs = config.authThrottle.windowSeconds * 1000;
  const cluster = new ClusterNode(
    redis,
    busReader,
    keys,
    {
      node: config.cluster.nodeId,
      internalUrl: nodeUrl,
      boshPath: config.boshPath,
      secret: config.cluster.secret as string,
      timing: { heartbeatMs: config.cluster.heartbeatMs, ttlMs: config.cluster.nodeTtlMs },
      // Every session's wait is at most BOSH_MAX_WAIT; a forwarded request unanswered past it is lost.
      forwardTimeoutMs: (config.bosh.maxWait + FORWARD_TIMEOUT_MARGIN_SECONDS) * 1000,
      outbox: { maxMessages: config.cluster.outboxMessages, maxAgeMs: config.cluster.outboxSeconds * 1000 },
      routeCacheUsers: config.cluster.routeCacheUsers,
      settleWaitMs: config.cluster.settleWaitMs,
      journal: config.cluster.busJournal,
    },
    logger,
    metrics,
  );
  return {
    cluster,
    authFailures: new RedisFailureCounters(redis, keys, failureTtlMs, new MemoryFailureCounters(failureTtlMs), logger),
    redisReady: () => redis.status === 'ready',
    close: async () => {
      await cluster.stop();
      redis.disconnect();
    },
  };
}
