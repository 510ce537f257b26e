import type { ScramHash, ScramKeys } from './scram-keys';

/** One account as a listing shows it. */
export interface AccountSummary {
  readonly username: string;
  /** Defined in USERS / USERS_FILE: changed there, never through the store. */
  readonly readOnly: boolean;
}

/** A page of accounts in username order; `next` is the cursor for the following page, if any. */
export interface AccountPage {
  readonly accounts: readonly AccountSummary[];
  readonly next: string | undefined;
}

export interface AccountListing {
  /** Usernames strictly after this one (the previous page's `next`). */
  readonly after?: string;
  readonly limit: number;
}

/**
 * Accounts as the session actor and account management need them. Implementations keep SCRAM keys,
 * never passwords (RFC 5802 §3): a password given to `create` or `changePassword` is turned into
 * keys and dropped. Usernames are normalised localparts (src/xmpp/jid.ts normaliseLocal).
 */
export interface AccountStore {
  exists(username: string): Promise<boolean>;
  /** The keys for one SCRAM hash; undefined when the account does not exist. */
  scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined>;
  /** SASL PLAIN: whether the password is right (undefined account → false). */
  verifyPassword(username: string, password: string): Promise<boolean>;
  /** Creates an account; AccountError 'conflict' when the name is taken. */
  create(username: string, password: string): Promise<void>;
  /**
   * Removes an account's credentials; whether there was one. Logins with it fail from now on, on every
   * node. Its roster, messages and documents stay: removing a user is removeAccount (account-removal.ts).
   */
  delete(username: string): Promise<boolean>;
  /** Replaces an account's password; AccountError 'not-found' when there is no such account. */
  changePassword(username: string, password: string): Promise<void>;
  list(listing: AccountListing): Promise<AccountPage>;
}
