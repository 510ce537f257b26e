import { AccountError } from './account-error';
import type { AccountListing, AccountPage, AccountStore, AccountSummary } from './account-store';
import type { MemoryAccountStore } from './memory-account-store';
import type { ScramHash, ScramKeys } from './scram-keys';

/**
 * The accounts of USERS / USERS_FILE beside a durable store: a read-only source in front of it. A
 * configured account answers for its name (it shadows a stored one of the same name); everything
 * else goes to the store. Configured accounts are changed where they are defined — never written to
 * the store, so taking a line out of the users file ends that account everywhere, at once.
 */
export class ConfiguredAccounts implements AccountStore {
  constructor(
    private readonly configured: MemoryAccountStore,
    private readonly stored: AccountStore,
  ) {}

  private async source(username: string): Promise<AccountStore> {
    return (await this.configured.exists(username)) ? this.configured : this.stored;
  }

  private readOnly(username: string): AccountError {
    return new AccountError('read-only', `account '${username}' is defined in USERS or USERS_FILE; change it there`);
  }

  async exists(username: string): Promise<boolean> {
    return (await this.configured.exists(username)) || this.stored.exists(username);
  }

  async scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined> {
    return (await this.source(username)).scramKeys(username, hash);
  }

  async verifyPassword(username: string, password: string): Promise<boolean> {
    return (await this.source(username)).verifyPassword(username, password);
  }

  async create(username: string, password: string): Promise<void> {
    if (await this.configured.exists(username)) throw new AccountError('conflict', `account '${username}' exists (in USERS or USERS_FILE)`);
    return this.stored.create(username, password);
  }

  async delete(username: string): Promise<boolean> {
    if (await this.configured.exists(username)) throw this.readOnly(username);
    return this.stored.delete(username);
  }

  async changePassword(username: string, password: string): Promise<void> {
    if (await this.configured.exists(username)) throw this.readOnly(username);
    return this.stored.changePassword(username, password);
  }

  /** Both sources merged in username order; a name in both is listed once, as the configured one. */
  async list(listing: AccountListing): Promise<AccountPage> {
    const [fromFile, fromStore] = await Promise.all([this.configured.list(listing), this.stored.list(listing)]);
    const merged = new Map<string, AccountSummary>();
    for (const account of fromStore.accounts) merged.set(account.username, account);
    for (const account of fromFile.accounts) merged.set(account.username, { username: account.username, readOnly: true });
    const names = [...merged.keys()].sort();
    const accounts = names.slice(0, listing.limit).map((name) => merged.get(name) as AccountSummary);
    // More follow when this page was cut, or when either source had more beyond its own page.
    const more = names.length > listing.limit || fromFile.next !== undefined || fromStore.next !== undefined;
    return { accounts, next: more && accounts.length > 0 ? accounts[accounts.length - 1]?.username : undefined };
  }
}
