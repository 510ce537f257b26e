import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger';

/**
 * The key login tokens are signed with: API_TOKEN_SECRET, or (a single node only: config.ts requires
 * the setting in cluster mode) 32 random bytes of this process, which a restart voids.
 */
export function tokenSecret(configured: string | undefined, logger: Logger): Uint8Array {
  if (configured !== undefined) return new TextEncoder().encode(configured);
  logger.warn('API_TOKEN_SECRET is not set: login tokens are signed with a key of this process and stop working when it restarts');
  return randomBytes(32);
}
