import type Redis from 'ioredis';
import type { AccountStore } from '../store/account-store';
import type { AuthCache } from '../store/auth-cache';
import type { MemoryAccountStore } from '../store/memory-account-store';
import { decodeKeys, encodeKeys, passwordMatches, SCRAM_HASHES, type ScramHash, type ScramKeys } from '../store/scram-keys';
import type { RedisKeys } from './keys';

/**
 * Accounts shared by the cluster: SCRAM keys in a Redis hash per user. Accounts configured on the
 * nodes (USERS / USERS_FILE) are looked up locally when Redis has none yet, and their keys, once
 * derived, are written to Redis so every node can use them.
 */
export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly configured: MemoryAccountStore,
    private readonly authCache: AuthCache,
  ) {}

  async exists(username: string): Promise<boolean> {
    if (await this.configured.exists(username)) return true;
    return (await this.redis.exists(this.keys.account(username))) === 1;
  }

  async scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined> {
    const stored = await this.redis.hget(this.keys.account(username), hash);
    if (stored) return decodeKeys(stored);
    const derived = await this.configured.scramKeys(username, hash);
    if (derived) await this.redis.hset(this.keys.account(username), hash, encodeKeys(derived));
    return derived;
  }

  async verifyPassword(username: string, password: string): Promise<boolean> {
    if (this.authCache.matches(username, password)) return true;
    const stored = await this.redis.hmget(this.keys.account(username), ...SCRAM_HASHES);
    const index = stored.findIndex((value) => value !== null);
    let ok: boolean;
    if (index >= 0) {
      const keys = decodeKeys(stored[index] as string);
      ok = keys !== undefined && (await passwordMatches(SCRAM_HASHES[index] as ScramHash, keys, password));
    } else {
      // A configured account: every node has its source; keys reach Redis when SCRAM derives them.
      ok = await this.configured.verifyPassword(username, password);
    }
    if (ok) this.authCache.remember(username, password);
    return ok;
  }

  /** Adds or replaces an account in Redis (for provisioning). */
  async setKeys(username: string, keys: Partial<Record<ScramHash, ScramKeys>>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const hash of SCRAM_HASHES) {
      const value = keys[hash];
      if (value) fields[hash] = encodeKeys(value);
    }
    await this.redis.multi().del(this.keys.account(username)).hset(this.keys.account(username), fields).exec();
    this.authCache.forget(username);
  }
}
