import { loadConfig, type Config } from '../../src/config';

/**
 * The configuration of one cluster node in a test: Redis at `redisUrl`, a fast heartbeat so dead
 * nodes are noticed within a second, quiet logs. `settings` adds to or overrides these.
 */
export function clusterNodeConfig(redisUrl: string, nodeId: string, settings: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEB_CLIENT: 'false',
    REDIS_URL: redisUrl,
    CLUSTER_SECRET: 'cluster-secret-for-tests',
    NODE_ID: nodeId,
    HEARTBEAT_MS: '200',
    NODE_TTL_MS: '800',
    ...settings,
  });
}
