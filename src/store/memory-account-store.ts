import { createHash, timingSafeEqual } from 'node:crypto';
import { AccountError } from './account-error';
import { checkUsername, pageOf } from './account-name';
import type { AccountListing, AccountPage, AccountStore } from './account-store';
import type { AuthCache } from './auth-cache';
import { verifyWithKeys } from './password-check';
import { deriveKeySet, deriveScramKeys, SCRAM_HASHES, type KeySet, type ScramHash, type ScramKeys } from './scram-keys';

/**
 * Reads one account's password from where it already is at rest (the users file), when its keys are
 * first needed. Nothing of the password is kept in memory afterwards, only the derived keys.
 */
export type PasswordSource = () => Promise<string | undefined>;

interface AccountRecord {
  keys: KeySet;
  source: PasswordSource | undefined;
  deriving: Partial<Record<ScramHash, Promise<ScramKeys | undefined>>>;
  /** What the entry it came from looked like (a digest of its users-file line), to keep it across reloads. */
  readonly origin: string | undefined;
  /**
   * Binds auth-cache entries to this record while it has no keys of its own yet (see AuthCache).
   * Made on first use: a users file of 100,000 lines should not cost 100,000 buffers at start-up.
   */
  token: Buffer | undefined;
}

// Tokens only need to differ between records of this process (the auth cache's HMAC key is per process).
let lastToken = 0n;

function tokenOf(record: AccountRecord): Buffer {
  if (!record.token) {
    const token = Buffer.alloc(8);
    token.writeBigUInt64BE(++lastToken);
    record.token = token;
  }
  return record.token;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Accounts in this process's memory: the accounts of USERS / USERS_FILE (behind ConfiguredAccounts),
 * and the whole account store when STORAGE=memory (tests).
 */
export class MemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, AccountRecord>();
  private sorted: string[] | undefined;

  constructor(
    private readonly iterations: number,
    private readonly authCache: AuthCache,
  ) {}

  get size(): number {
    return this.accounts.size;
  }

  /** The usernames held, in no particular order. */
  names(): IterableIterator<string> {
    return this.accounts.keys();
  }

  /**
   * A replaced account gets a new record, so a derivation still running for the old one (which holds
   * the old record) cannot store its keys into the new account (see storeDerived).
   */
  private replace(username: string, keys: KeySet, source: PasswordSource | undefined, origin?: string): void {
    if (!this.accounts.has(username)) this.sorted = undefined;
    this.accounts.set(username, { keys: { ...keys }, source, deriving: {}, origin, token: undefined });
    this.authCache.forget(username);
  }

  /** Adds (or replaces) an account with already-derived keys. */
  setKeys(username: string, keys: KeySet, origin?: string): void {
    if (origin !== undefined && this.accounts.get(username)?.origin === origin) return;
    this.replace(username, keys, undefined, origin);
  }

  /**
   * Adds (or replaces) an account whose keys are derived from `source` on first use. An account whose
   * `origin` is unchanged keeps what it already derived and only learns where its password now is.
   */
  setPasswordSource(username: string, source: PasswordSource, origin?: string): void {
    const record = this.accounts.get(username);
    if (record && origin !== undefined && record.origin === origin) {
      if (record.source) record.source = source;
      return;
    }
    this.replace(username, {}, source, origin);
  }

  /** Adds (or replaces) an account from a password, deriving every SCRAM hash now. */
  async setPassword(username: string, password: string): Promise<void> {
    this.setKeys(username, await deriveKeySet(password, this.iterations));
  }

  async exists(username: string): Promise<boolean> {
    return this.accounts.has(username);
  }

  async create(username: string, password: string): Promise<void> {
    checkUsername(username);
    if (this.accounts.has(username)) throw new AccountError('conflict', `account '${username}' exists`);
    const keys = await deriveKeySet(password, this.iterations);
    // Checked again: another create may have finished while the keys were being derived.
    if (this.accounts.has(username)) throw new AccountError('conflict', `account '${username}' exists`);
    this.setKeys(username, keys);
  }

  async delete(username: string): Promise<boolean> {
    const removed = this.accounts.delete(username);
    if (removed) this.sorted = undefined;
    this.authCache.forget(username);
    return removed;
  }

  async changePassword(username: string, password: string): Promise<void> {
    if (!this.accounts.has(username)) throw new AccountError('not-found', `no account '${username}'`);
    const keys = await deriveKeySet(password, this.iterations);
    if (!this.accounts.has(username)) throw new AccountError('not-found', `no account '${username}'`);
    this.setKeys(username, keys);
  }

  async list(listing: AccountListing): Promise<AccountPage> {
    this.sorted ??= [...this.accounts.keys()].sort();
    const page = pageOf(this.sorted, listing.after, listing.limit);
    return { accounts: page.names.map((username) => ({ username, readOnly: false })), next: page.next };
  }

  async scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined> {
    const record = this.accounts.get(username);
    if (!record) return undefined;
    const known = record.keys[hash];
    if (known) return known;
    if (!record.source) return undefined;
    // One derivation per account and hash, however many logins ask at once.
    let deriving = record.deriving[hash];
    if (!deriving) {
      const source = record.source;
      deriving = source().then(async (password) => {
        if (password === undefined) return undefined;
        const keys = await deriveScramKeys(hash, password, this.iterations);
        this.storeDerived(username, record, hash, keys);
        return keys;
      });
      record.deriving[hash] = deriving;
      deriving.finally(() => delete record.deriving[hash]).catch(() => undefined);
    }
    return deriving;
  }

  async verifyPassword(username: string, password: string): Promise<boolean> {
    const record = this.accounts.get(username);
    if (!record) return false;
    if (record.keys['SHA-256'] || record.keys['SHA-1']) return verifyWithKeys(this.authCache, username, password, record.keys);
    if (!record.source) return false;
    // A file account with no keys yet: the file is the reference, so comparing with it is enough.
    // Keys are derived only when a SCRAM login needs them; repeat PLAIN logins hit the auth cache.
    if (this.authCache.matches(username, password, tokenOf(record))) return true;
    const stored = await record.source();
    const ok = stored !== undefined && sameSecret(stored, password);
    if (ok && this.accounts.get(username) === record) this.authCache.remember(username, password, tokenOf(record));
    return ok;
  }

  private storeDerived(username: string, record: AccountRecord, hash: ScramHash, keys: ScramKeys): void {
    if (this.accounts.get(username) !== record) return;
    record.keys[hash] = keys;
    // With every hash derived, the password is no longer needed from its source.
    if (SCRAM_HASHES.every((h) => record.keys[h])) record.source = undefined;
  }
}
