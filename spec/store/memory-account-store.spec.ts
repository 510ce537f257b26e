import { AuthCache } from '../../src/store/auth-cache';
import { MemoryAccountStore, type PasswordSource } from '../../src/store/memory-account-store';
import { deriveScramKeys, hmac, digest, saltedPassword } from '../../src/store/scram-keys';

const ITERATIONS = 4096;

/**
 * A password source that counts its reads. Given a gate, every read stays open until the gate opens,
 * so logins line up behind one read (or a derivation finishes only after what the test does meanwhile).
 */
function countingSource(password: string | undefined, gate: Promise<void> = Promise.resolve()): PasswordSource & { calls: number } {
  const source = Object.assign(
    async () => {
      source.calls++;
      await gate;
      return password;
    },
    { calls: 0 },
  );
  return source;
}

/** A promise the test opens when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** RFC 5802 §3: StoredKey = H(HMAC(SaltedPassword, "Client Key")) — what a SCRAM client will prove. */
async function storedKeyFor(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return digest('SHA-256', hmac('SHA-256', await saltedPassword('SHA-256', password, salt, iterations), 'Client Key'));
}

describe('PLAIN verification against stored SCRAM keys (RFC 5802 §3: the server keeps keys, not passwords)', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    await store.setPassword('alice', 'secret');
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('alice', 'Secret')).toBe(false);
    expect(await store.verifyPassword('alice', '')).toBe(false);
  });

  it('refuses any password for an account that does not exist', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(10, 1000));
    expect(await store.verifyPassword('nobody', 'secret')).toBe(false);
    expect(await store.exists('nobody')).toBe(false);
  });

  it('verifies against SHA-1 keys when those are the only keys an account has', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    store.setKeys('old', { 'SHA-1': await deriveScramKeys('SHA-1', 'legacy', ITERATIONS) });
    expect(await store.verifyPassword('old', 'legacy')).toBe(true);
    expect(await store.verifyPassword('old', 'other')).toBe(false);
  });

  it('applies SASLprep-style NFKC to the password, so compatibility forms of the same password match (RFC 5802 §2.2 Normalize)', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    await store.setPassword('alice', 'ｐａｓｓ'); // fullwidth
    expect(await store.verifyPassword('alice', 'pass')).toBe(true);
  });

  it('derives keys for both SCRAM hashes from setPassword, with the configured iteration count and a 16-byte salt', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    await store.setPassword('alice', 'secret');
    const sha1 = await store.scramKeys('alice', 'SHA-1');
    const sha256 = await store.scramKeys('alice', 'SHA-256');
    expect(sha1?.storedKey).toHaveLength(20);
    expect(sha256?.storedKey).toHaveLength(32);
    expect(sha256?.iterations).toBe(ITERATIONS);
    expect(sha256?.salt).toHaveLength(16);
    expect(sha256?.storedKey.equals(await storedKeyFor('secret', sha256.salt, sha256.iterations))).toBe(true);
  });

  it('forgets the old password when an account is replaced', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(10, 60_000));
    await store.setPassword('alice', 'old');
    expect(await store.verifyPassword('alice', 'old')).toBe(true); // now cached as well
    await store.setPassword('alice', 'new');
    expect(await store.verifyPassword('alice', 'old')).toBe(false);
    expect(await store.verifyPassword('alice', 'new')).toBe(true);
  });
});

describe('keys of an account from a password source are derived lazily, once per hash', () => {
  it('reads the source and derives only when keys are first needed', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const source = countingSource('secret');
    store.setPasswordSource('alice', source);
    expect(await store.exists('alice')).toBe(true);
    expect(source.calls).toBe(0);
    const keys = await store.scramKeys('alice', 'SHA-256');
    expect(source.calls).toBe(1);
    expect(keys?.storedKey.equals(await storedKeyFor('secret', keys.salt, keys.iterations))).toBe(true);
  });

  it('derives once even when many SCRAM logins ask for the same keys at the same time', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const read = gate();
    const source = countingSource('secret', read.opened);
    store.setPasswordSource('alice', source);
    // All twenty ask while the one read of the source is still open.
    const logins = Array.from({ length: 20 }, () => store.scramKeys('alice', 'SHA-256'));
    read.open();
    const all = await Promise.all(logins);
    expect(source.calls).toBe(1);
    // Every login sees the same salt: a client cannot be told two different salts for one account.
    expect(new Set(all.map((k) => k?.salt.toString('base64'))).size).toBe(1);
    expect(all.every((k) => k === all[0])).toBe(true);
  });

  it('keeps derived keys, so later logins do not read the source again', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const source = countingSource('secret');
    store.setPasswordSource('alice', source);
    const first = await store.scramKeys('alice', 'SHA-256');
    const again = await store.scramKeys('alice', 'SHA-256');
    expect(again).toBe(first);
    expect(source.calls).toBe(1);
  });

  it('derives each hash separately and lets go of the source once both are derived', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const source = countingSource('secret');
    store.setPasswordSource('alice', source);
    await store.scramKeys('alice', 'SHA-256');
    await store.scramKeys('alice', 'SHA-1');
    expect(source.calls).toBe(2);
    await store.scramKeys('alice', 'SHA-1');
    await store.verifyPassword('alice', 'secret');
    expect(source.calls).toBe(2);
  });

  it('answers no keys (a failed login) when the source no longer has the password', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    store.setPasswordSource('alice', countingSource(undefined));
    expect(await store.scramKeys('alice', 'SHA-256')).toBeUndefined();
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
  });

  it('verifies a first PLAIN login against the source without PBKDF2, and derives keys only when SCRAM asks', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const source = countingSource('secret');
    store.setPasswordSource('alice', source);
    expect(await store.verifyPassword('alice', 'wrong')).toBe(false);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    const calls = source.calls;
    // The SCRAM login reads the source once more and derives the keys from it, once.
    const keys = await store.scramKeys('alice', 'SHA-256');
    expect(source.calls).toBe(calls + 1);
    expect(keys?.storedKey.equals(await storedKeyFor('secret', keys.salt, keys.iterations))).toBe(true);
    expect(await store.scramKeys('alice', 'SHA-256')).toBe(keys);
    expect(source.calls).toBe(calls + 1);
  });

  it('does not let a derivation that finishes after the account was replaced overwrite the new account', async () => {
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    const read = gate();
    store.setPasswordSource('alice', countingSource('old', read.opened));
    const pending = store.scramKeys('alice', 'SHA-256');
    await store.setPassword('alice', 'new');
    // The old account's password arrives, and its keys are derived, only after the replacement.
    read.open();
    await pending;
    const keys = await store.scramKeys('alice', 'SHA-256');
    expect(keys?.storedKey.equals(await storedKeyFor('new', keys.salt, keys.iterations))).toBe(true);
  });
});

/** The fingerprint a store binds alice's cache entries to: her current SHA-256 stored key. */
async function fingerprintOf(store: MemoryAccountStore, user: string): Promise<Buffer> {
  const keys = await store.scramKeys(user, 'SHA-256');
  if (!keys) throw new Error(`no keys for ${user}`);
  return keys.storedKey;
}

const FP = Buffer.from('fingerprint');

describe('the PLAIN auth cache spares repeat logins a PBKDF2 run, within its time to live', () => {
  it('answers a login from the cache when the cache vouches for the password', async () => {
    let now = 1_000_000;
    const cache = new AuthCache(10, 60_000, () => now);
    const store = new MemoryAccountStore(ITERATIONS, cache);
    await store.setPassword('alice', 'secret');
    // A cache entry the keys would not confirm shows which path answered.
    cache.remember('alice', 'only-in-cache', await fingerprintOf(store, 'alice'));
    expect(await store.verifyPassword('alice', 'only-in-cache')).toBe(true);
    now += 59_999;
    expect(await store.verifyPassword('alice', 'only-in-cache')).toBe(true);
  });

  it('stops trusting an entry once its time to live has passed', async () => {
    let now = 1_000_000;
    const cache = new AuthCache(10, 60_000, () => now);
    const store = new MemoryAccountStore(ITERATIONS, cache);
    await store.setPassword('alice', 'secret');
    cache.remember('alice', 'only-in-cache', await fingerprintOf(store, 'alice'));
    now += 60_000;
    expect(await store.verifyPassword('alice', 'only-in-cache')).toBe(false);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
  });

  it('remembers a successful login and never a failed one', async () => {
    const cache = new AuthCache(10, 60_000);
    const store = new MemoryAccountStore(ITERATIONS, cache);
    await store.setPassword('alice', 'secret');
    const fingerprint = await fingerprintOf(store, 'alice');
    expect(await store.verifyPassword('alice', 'wrong')).toBe(false);
    expect(cache.matches('alice', 'wrong', fingerprint)).toBe(false);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(cache.matches('alice', 'secret', fingerprint)).toBe(true);
  });

  it('falls back to the keys for a different password than the cached one', async () => {
    const cache = new AuthCache(10, 60_000);
    const store = new MemoryAccountStore(ITERATIONS, cache);
    await store.setPassword('alice', 'secret');
    await store.verifyPassword('alice', 'secret');
    expect(await store.verifyPassword('alice', 'wrong')).toBe(false);
  });

  it('keeps no more entries than its capacity, dropping the oldest first', () => {
    const cache = new AuthCache(2, 60_000);
    cache.remember('a', 'pa', FP);
    cache.remember('b', 'pb', FP);
    cache.remember('c', 'pc', FP);
    expect(cache.matches('a', 'pa', FP)).toBe(false);
    expect(cache.matches('b', 'pb', FP)).toBe(true);
    expect(cache.matches('c', 'pc', FP)).toBe(true);
  });

  it('caches nothing with a capacity of zero', () => {
    const cache = new AuthCache(0, 60_000);
    cache.remember('a', 'pa', FP);
    expect(cache.matches('a', 'pa', FP)).toBe(false);
  });

  it('does not vouch for a password checked against other credentials than the ones now stored', () => {
    const cache = new AuthCache(10, 60_000);
    cache.remember('a', 'pa', FP);
    expect(cache.matches('a', 'pa', Buffer.from('a new stored key'))).toBe(false);
  });

  it('refuses a cached password once the account is deleted, and once its password changed', async () => {
    const cache = new AuthCache(10, 60_000);
    const store = new MemoryAccountStore(ITERATIONS, cache);
    await store.create('alice', 'secret');
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    await store.changePassword('alice', 'new');
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
    expect(await store.verifyPassword('alice', 'new')).toBe(true);
    await store.delete('alice');
    expect(await store.verifyPassword('alice', 'new')).toBe(false);
  });
});
