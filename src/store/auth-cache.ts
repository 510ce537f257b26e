import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Remembers recent successful PLAIN logins so a user who logs in again (a page reload, a reconnect)
 * does not cost another PBKDF2 run. It keeps an HMAC of the password under a key that lives only in
 * this process, never the password; entries expire and the cache is bounded (least recently used out).
 *
 * Each entry is bound to a fingerprint of the credentials it was checked against (the stored key, read
 * from the account's source at every login): once the account is deleted, re-created or given a new
 * password — on this node or any other — the entry no longer matches and the login is checked afresh.
 */
export class AuthCache {
  private readonly secret = randomBytes(32);
  private readonly entries = new Map<string, { mac: Buffer; expiresAt: number }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(username: string, password: string, fingerprint: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(username).update('\0').update(fingerprint).update('\0').update(password).digest();
  }

  matches(username: string, password: string, fingerprint: Buffer): boolean {
    const entry = this.entries.get(username);
    if (!entry) return false;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(username);
      return false;
    }
    return timingSafeEqual(entry.mac, this.mac(username, password, fingerprint));
  }

  remember(username: string, password: string, fingerprint: Buffer): void {
    if (this.capacity <= 0) return;
    this.entries.delete(username);
    this.entries.set(username, { mac: this.mac(username, password, fingerprint), expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  forget(username: string): void {
    this.entries.delete(username);
  }
}
