/**
 * A gateway node with the business API on, in-process (memory storage), and supertest requests
 * against it with an application's key.
 */
import request from 'supertest';
import { startGateway, type RunningGateway } from '../../e2e/support/gateway';

export const KEYS = {
  /** Every operation. */
  full: 'full-key-0123456789abcdef',
  /** Statistics only. */
  stats: 'stats-key-0123456789abcdef',
  /** Pushes only. */
  pusher: 'push-key-0123456789abcdef',
};

export const API_KEYS = `full:${KEYS.full},reader:${KEYS.stats}:stats,pusher:${KEYS.pusher}:push`;

export async function startApiNode(overrides: Record<string, string> = {}): Promise<RunningGateway> {
  return startGateway({ API_KEYS, API_TOKEN_SECRET: 'test-token-secret-0123456789abcdef', ...overrides });
}

type Method = 'get' | 'post' | 'put' | 'delete';

/** A request to /api/v1 + path with `key` as the bearer key (none when null). */
export function call(node: RunningGateway, method: Method, path: string, key: string | null = KEYS.full): request.Test {
  const test = request(node.url)[method](`/api/v1${path}`);
  return key === null ? test : test.set('Authorization', `Bearer ${key}`);
}
