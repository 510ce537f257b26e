import { AccountError } from '../account-error';
import { checkUsername } from '../account-name';
import type { AccountListing, AccountPage, AccountStore } from '../account-store';
import type { AuthCache } from '../auth-cache';
import { verifyWithKeys } from '../password-check';
import { deriveKeySet, SCRAM_HASHES, type KeySet, type ScramHash, type ScramKeys } from '../scram-keys';
import type { SqliteDatabase } from './database';

interface KeyRow {
  hash: ScramHash;
  iterations: number;
  salt: Buffer;
  stored_key: Buffer;
  server_key: Buffer;
}

const toKeys = (row: KeyRow): ScramKeys => ({ iterations: row.iterations, salt: row.salt, storedKey: row.stored_key, serverKey: row.server_key });

/** Accounts in the node's SQLite database: SCRAM keys per hash (RFC 5802 §3), never a password. */
export class SqliteAccountStore implements AccountStore {
  private readonly existsQuery;
  private readonly keyQuery;
  private readonly allKeysQuery;
  private readonly insertAccount;
  private readonly insertKey;
  private readonly deleteAccount;
  private readonly deleteKeys;
  private readonly pageQuery;
  private readonly pageAfterQuery;
  private readonly createTx;
  private readonly replaceKeysTx;

  constructor(
    db: SqliteDatabase,
    private readonly iterations: number,
    private readonly authCache: AuthCache,
  ) {
    this.existsQuery = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM accounts WHERE username = ?');
    this.keyQuery = db.prepare<[string, string], KeyRow>(
      'SELECT hash, iterations, salt, stored_key, server_key FROM account_keys WHERE username = ? AND hash = ?',
    );
    this.allKeysQuery = db.prepare<[string], KeyRow>('SELECT hash, iterations, salt, stored_key, server_key FROM account_keys WHERE username = ?');
    this.insertAccount = db.prepare<[string, string]>('INSERT OR IGNORE INTO accounts (username, created_at) VALUES (?, ?)');
    this.insertKey = db.prepare<[string, string, number, Buffer, Buffer, Buffer]>(
      'INSERT INTO account_keys (username, hash, iterations, salt, stored_key, server_key) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.deleteAccount = db.prepare<[string]>('DELETE FROM accounts WHERE username = ?');
    this.deleteKeys = db.prepare<[string]>('DELETE FROM account_keys WHERE username = ?');
    this.pageQuery = db.prepare<[number], { username: string }>('SELECT username FROM accounts ORDER BY username LIMIT ?');
    this.pageAfterQuery = db.prepare<[string, number], { username: string }>('SELECT username FROM accounts WHERE username > ? ORDER BY username LIMIT ?');
    const insertKeys = (username: string, keys: KeySet): void => {
      for (const hash of SCRAM_HASHES) {
        const k = keys[hash];
        if (k) this.insertKey.run(username, hash, k.iterations, k.salt, k.storedKey, k.serverKey);
      }
    };
    // The account row and its keys appear together or not at all.
    this.createTx = db.transaction((username: string, keys: KeySet): boolean => {
      if (this.insertAccount.run(username, new Date().toISOString()).changes === 0) return false;
      insertKeys(username, keys);
      return true;
    });
    this.replaceKeysTx = db.transaction((username: string, keys: KeySet): boolean => {
      if (!this.existsQuery.get(username)) return false;
      this.deleteKeys.run(username);
      insertKeys(username, keys);
      return true;
    });
  }

  async exists(username: string): Promise<boolean> {
    return this.existsQuery.get(username) !== undefined;
  }

  async scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined> {
    const row = this.keyQuery.get(username, hash);
    return row ? toKeys(row) : undefined;
  }

  async verifyPassword(username: string, password: string): Promise<boolean> {
    const keys: KeySet = {};
    for (const row of this.allKeysQuery.all(username)) keys[row.hash] = toKeys(row);
    return verifyWithKeys(this.authCache, username, password, keys);
  }

  async create(username: string, password: string): Promise<void> {
    checkUsername(username);
    if (await this.exists(username)) throw new AccountError('conflict', `account '${username}' exists`);
    if (!this.createTx(username, await deriveKeySet(password, this.iterations))) throw new AccountError('conflict', `account '${username}' exists`);
  }

  async delete(username: string): Promise<boolean> {
    this.authCache.forget(username);
    // account_keys rows go with it (ON DELETE CASCADE).
    return this.deleteAccount.run(username).changes > 0;
  }

  async changePassword(username: string, password: string): Promise<void> {
    if (!(await this.exists(username))) throw new AccountError('not-found', `no account '${username}'`);
    const keys = await deriveKeySet(password, this.iterations);
    if (!this.replaceKeysTx(username, keys)) throw new AccountError('not-found', `no account '${username}'`);
    this.authCache.forget(username);
  }

  async list(listing: AccountListing): Promise<AccountPage> {
    // One row more than asked says whether another page follows.
    const rows = listing.after === undefined ? this.pageQuery.all(listing.limit + 1) : this.pageAfterQuery.all(listing.after, listing.limit + 1);
    const accounts = rows.slice(0, listing.limit).map((row) => ({ username: row.username, readOnly: false }));
    return { accounts, next: rows.length > listing.limit ? accounts[accounts.length - 1]?.username : undefined };
  }
}
