import { createHash, timingSafeEqual } from 'node:crypto';
import type { AccountStore } from './account-store';
import type { AuthCache } from './auth-cache';
import { deriveScramKeys, passwordMatches, SCRAM_HASHES, type ScramHash, type ScramKeys } from './scram-keys';

/**
 * Reads one account's password from where it already is at rest (the users file), when its keys are
 * first needed. Nothing of the password is kept in memory afterwards, only the derived keys.
 */
export type PasswordSource = () => Promise<string | undefined>;

interface AccountRecord {
  keys: Partial<Record<ScramHash, ScramKeys>>;
  source: PasswordSource | undefined;
  deriving: Partial<Record<ScramHash, Promise<ScramKeys | undefined>>>;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Accounts in this process's memory: the embedded default, filled from USERS / USERS_FILE. */
export class MemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, AccountRecord>();

  constructor(
    private readonly iterations: number,
    private readonly authCache: AuthCache,
  ) {}

  get size(): number {
    return this.accounts.size;
  }

  /**
   * A replaced account gets a new record, so a derivation still running for the old one (which holds
   * the old record) cannot store its keys into the new account (see storeDerived).
   */
  private replace(username: string, keys: Partial<Record<ScramHash, ScramKeys>>, source: PasswordSource | undefined): void {
    this.accounts.set(username, { keys: { ...keys }, source, deriving: {} });
    this.authCache.forget(username);
  }

  /** Adds (or replaces) an account with already-derived keys. */
  setKeys(username: string, keys: Partial<Record<ScramHash, ScramKeys>>): void {
    this.replace(username, keys, undefined);
  }

  /** Adds (or replaces) an account whose keys are derived from `source` on first use. */
  setPasswordSource(username: string, source: PasswordSource): void {
    this.replace(username, {}, source);
  }

  /** Adds (or replaces) an account from a password, deriving every SCRAM hash now. */
  async setPassword(username: string, password: string): Promise<void> {
    const keys: Partial<Record<ScramHash, ScramKeys>> = {};
    for (const hash of SCRAM_HASHES) keys[hash] = await deriveScramKeys(hash, password, this.iterations);
    this.setKeys(username, keys);
  }

  async exists(username: string): Promise<boolean> {
    return this.accounts.has(username);
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
    if (this.authCache.matches(username, password)) return true;
    const keys = record.keys['SHA-256'] ?? record.keys['SHA-1'];
    let ok: boolean;
    if (keys) {
      ok = await passwordMatches(record.keys['SHA-256'] ? 'SHA-256' : 'SHA-1', keys, password);
    } else if (record.source) {
      // A file account with no keys yet: the file is the reference, so comparing with it is enough.
      // Keys are derived only when a SCRAM login needs them; repeat PLAIN logins hit the auth cache.
      const stored = await record.source();
      ok = stored !== undefined && sameSecret(stored, password);
    } else {
      ok = false;
    }
    if (ok) this.authCache.remember(username, password);
    return ok;
  }

  private storeDerived(username: string, record: AccountRecord, hash: ScramHash, keys: ScramKeys): void {
    if (this.accounts.get(username) !== record) return;
    record.keys[hash] = keys;
    // With every hash derived, the password is no longer needed from its source.
    if (SCRAM_HASHES.every((h) => record.keys[h])) record.source = undefined;
  }
}
