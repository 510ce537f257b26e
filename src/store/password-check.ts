import type { AuthCache } from './auth-cache';
import { passwordMatches, type KeySet } from './scram-keys';

/**
 * SASL PLAIN against the keys just read from the account's source (RFC 5802 §3: one PBKDF2 run),
 * through the auth cache. The keys are read first on purpose: an account that is gone has none, so a
 * cached success can never outlive the account, and a new password means a new stored key, which
 * no old cache entry matches.
 */
export async function verifyWithKeys(cache: AuthCache, username: string, password: string, keys: KeySet): Promise<boolean> {
  const hash = keys['SHA-256'] ? 'SHA-256' : keys['SHA-1'] ? 'SHA-1' : undefined;
  const stored = hash && keys[hash];
  if (!hash || !stored) return false;
  if (cache.matches(username, password, stored.storedKey)) return true;
  const ok = await passwordMatches(hash, stored, password);
  if (ok) cache.remember(username, password, stored.storedKey);
  return ok;
}
