import type { ScramHash, ScramKeys } from './scram-keys';

/**
 * Accounts as the session actor needs them. Implementations keep SCRAM keys, never passwords.
 */
export interface AccountStore {
  exists(username: string): Promise<boolean>;
  /** The keys for one SCRAM hash; undefined when the account does not exist. */
  scramKeys(username: string, hash: ScramHash): Promise<ScramKeys | undefined>;
  /** SASL PLAIN: whether the password is right (undefined account → false). */
  verifyPassword(username: string, password: string): Promise<boolean>;
}
