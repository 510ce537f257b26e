import type Redis from 'ioredis';
import { AccountError } from '../account-error';
import { checkUsername } from '../account-name';
import type { AccountListing, AccountPage, AccountStore } from '../account-store';
import type { AuthCache } from '../auth-cache';
import { verifyWithKeys } from '../password-check';
import { decodeKeys, deriveKeySet, encodeKeys, SCRAM_HASHES, type KeySet, type ScramHash, type ScramKeys } from '../scram-keys';
import type { RedisStoreKeys } from './store-keys';

// KEYS[1] is the account's hash of keys, KEYS[2] the index of names, ARGV[1] the name. An account
// exists when its name is in the index: a hash without one is a key cache earlier releases wrote for
// USERS_FILE accounts, which must not keep such an account alive once its line is gone.

// Creates the account only if its name is free.
const CREATE = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1`;

// Replaces the keys of an existing account only (a deletion racing with it wins).
const REPLACE = `
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`;

// Removes the account and its name in one step.
const DELETE = `
redis.call('DEL', KEYS[1])
return redis.call('ZREM', KEYS[2], ARGV[1])`;

function fields(keys: KeySet): string[] {
  const out: string[] = [];
  for (const hash of SCRAM_HASHES) {
    const value = keys[hash];
    if (value) out.push(hash, encodeKeys(value));
  }
  return out;
}

/**
 * Accounts shared by the cluster: SCRAM keys in a Redis hash per user, read at every login, so a
 * deletion or a new password on one node holds on every other at once (the auth cache of each node
 * is bound to the stored key it last saw, see AuthCache).
 */
export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisStoreKeys,
    private readonly iterations: number,
    private readonly authCache: AuthCache,
  ) {}

  async exists(username: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.accountNames(), username)) !== null;
  }

  /** The account's stored keys (none when it does not exist), in one round trip. */
  private async storedKeys(username: string): Promise<KeySet> {
    const replies = await this.redis
      .multi()
      .zscore(this.keys.accountNames(), username)
      .hmget(this.keys.account(username), ...SCRAM_HASHES)
      .exec();
    if (!replies) throw new Error('account lookup: the Redis transaction was discarded');
    for (const [err] of replies) if (err) throw err;
    const keys: KeySet = {};
    if (replies[0]?.[1] === null) return keys;
    const stored = replies[1]?.[1] as Array<string | null>;
    SCRAM_HASHES.forEach((hash, index) => {
      const decoded = stored[index] ? decodeKeys(stored[index]) : undefined;
      if (decoded) keys[hash] = decoded;
    });
    return keys;
  }

  async scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined> {
    return (await this.storedKeys(username))[hash];
  }

  async verifyPassword(username: string, password: string): Promise<boolean> {
    return verifyWithKeys(this.authCache, username, password, await this.storedKeys(username));
  }

  async create(username: string, password: string): Promise<void> {
    checkUsername(username);
    if (await this.exists(username)) throw new AccountError('conflict', `account '${username}' exists`);
    const values = fields(await deriveKeySet(password, this.iterations));
    const created = await this.redis.eval(CREATE, 2, this.keys.account(username), this.keys.accountNames(), username, ...values);
    if (created !== 1) throw new AccountError('conflict', `account '${username}' exists`);
  }

  async delete(username: string): Promise<boolean> {
    this.authCache.forget(username);
    return (await this.redis.eval(DELETE, 2, this.keys.account(username), this.keys.accountNames(), username)) === 1;
  }

  async changePassword(username: string, password: string): Promise<void> {
    if (!(await this.exists(username))) throw new AccountError('not-found', `no account '${username}'`);
    const values = fields(await deriveKeySet(password, this.iterations));
    if ((await this.redis.eval(REPLACE, 2, this.keys.account(username), this.keys.accountNames(), username, ...values)) !== 1)
      throw new AccountError('not-found', `no account '${username}'`);
    this.authCache.forget(username);
  }

  async list(listing: AccountListing): Promise<AccountPage> {
    // ZRANGEBYLEX: '(' excludes the cursor itself; one name more than asked says whether a page follows.
    const from = listing.after === undefined ? '-' : `(${listing.after}`;
    const names = await this.redis.zrangebylex(this.keys.accountNames(), from, '+', 'LIMIT', 0, listing.limit + 1);
    const accounts = names.slice(0, listing.limit).map((username) => ({ username, readOnly: false }));
    return { accounts, next: names.length > listing.limit ? accounts[accounts.length - 1]?.username : undefined };
  }
}
