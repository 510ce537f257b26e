import { AccountError } from '../../../src/store/account-error';
import { digest, hmac, saltedPassword } from '../../../src/store/scram-keys';
import { storesFor, type StoreBackend } from './backend';

/** RFC 5802 §3: StoredKey = H(HMAC(SaltedPassword, "Client Key")), what a SCRAM client proves. */
async function proves(password: string, keys: { salt: Buffer; iterations: number; storedKey: Buffer }, hash: 'SHA-1' | 'SHA-256'): Promise<boolean> {
  return digest(hash, hmac(hash, await saltedPassword(hash, password, keys.salt, keys.iterations), 'Client Key')).equals(keys.storedKey);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AccountError) return err.condition;
    throw err;
  }
  throw new Error('expected an AccountError');
}

export function accountStoreContract(backend: StoreBackend): void {
  describe(`${backend.name} AccountStore`, () => {
    const stores = storesFor(backend);

    it('creates an account that exists, logs in with its password by PLAIN, and has SCRAM keys for both hashes', async () => {
      const { accounts } = await stores.open();
      expect(await accounts.exists('alice')).toBe(false);
      await accounts.create('alice', 'secret');
      expect(await accounts.exists('alice')).toBe(true);
      expect(await accounts.verifyPassword('alice', 'secret')).toBe(true);
      expect(await accounts.verifyPassword('alice', 'Secret')).toBe(false);
      for (const hash of ['SHA-1', 'SHA-256'] as const) {
        const keys = await accounts.scramKeys('alice', hash);
        expect(keys).toBeDefined();
        expect(keys?.iterations).toBe(4096);
        expect(await proves('secret', keys as NonNullable<typeof keys>, hash)).toBe(true);
      }
    });

    it('knows nothing of an account never created', async () => {
      const { accounts } = await stores.open();
      expect(await accounts.scramKeys('nobody', 'SHA-256')).toBeUndefined();
      expect(await accounts.verifyPassword('nobody', 'secret')).toBe(false);
    });

    it('refuses to create a taken name, or a name that is not a normalised localpart', async () => {
      const { accounts } = await stores.open();
      await accounts.create('alice', 'secret');
      expect(await refusal(accounts.create('alice', 'other'))).toBe('conflict');
      expect(await accounts.verifyPassword('alice', 'secret')).toBe(true);
      expect(await refusal(accounts.create('Alice', 'x'))).toBe('invalid-username');
      expect(await refusal(accounts.create('', 'x'))).toBe('invalid-username');
      expect(await refusal(accounts.create('a@b', 'x'))).toBe('invalid-username');
    });

    it('deletes an account: no login by either mechanism afterwards, even right after a successful one', async () => {
      const { accounts } = await stores.open();
      await accounts.create('alice', 'secret');
      expect(await accounts.verifyPassword('alice', 'secret')).toBe(true);
      expect(await accounts.delete('alice')).toBe(true);
      expect(await accounts.exists('alice')).toBe(false);
      expect(await accounts.verifyPassword('alice', 'secret')).toBe(false);
      expect(await accounts.scramKeys('alice', 'SHA-256')).toBeUndefined();
      expect(await accounts.scramKeys('alice', 'SHA-1')).toBeUndefined();
      expect(await accounts.delete('alice')).toBe(false);
    });

    it('changes a password: the old one is refused at once, the new one accepted by PLAIN and SCRAM', async () => {
      const { accounts } = await stores.open();
      await accounts.create('alice', 'old');
      expect(await accounts.verifyPassword('alice', 'old')).toBe(true);
      await accounts.changePassword('alice', 'new');
      expect(await accounts.verifyPassword('alice', 'old')).toBe(false);
      expect(await accounts.verifyPassword('alice', 'new')).toBe(true);
      const keys = await accounts.scramKeys('alice', 'SHA-256');
      expect(await proves('new', keys as NonNullable<typeof keys>, 'SHA-256')).toBe(true);
      expect(await refusal(accounts.changePassword('nobody', 'x'))).toBe('not-found');
      expect(await accounts.exists('nobody')).toBe(false);
    });

    it('lists accounts in name order, page by page', async () => {
      const { accounts } = await stores.open();
      for (const name of ['erin', 'bob', 'dave', 'alice', 'carol']) await accounts.create(name, 'pw');
      const first = await accounts.list({ limit: 2 });
      expect(first.accounts).toEqual([
        { username: 'alice', readOnly: false },
        { username: 'bob', readOnly: false },
      ]);
      expect(first.next).toBe('bob');
      const second = await accounts.list({ after: first.next, limit: 2 });
      expect(second.accounts.map((a) => a.username)).toEqual(['carol', 'dave']);
      const last = await accounts.list({ after: second.next, limit: 2 });
      expect(last.accounts.map((a) => a.username)).toEqual(['erin']);
      expect(last.next).toBeUndefined();
      const whole = await accounts.list({ limit: 5 });
      expect(whole.accounts).toHaveLength(5);
      expect(whole.next).toBeUndefined();
      await accounts.delete('carol');
      expect((await accounts.list({ after: 'bob', limit: 10 })).accounts.map((a) => a.username)).toEqual(['dave', 'erin']);
    });

    it('keeps accounts for another instance over the same data, where a deletion or new password holds at once', async () => {
      const first = await stores.open();
      if (!first.another) return;
      await first.accounts.create('alice', 'secret');
      await first.accounts.create('bob', 'old');
      const second = await stores.another(first);
      // Logged in once through each instance: each has a cached success.
      expect(await second.accounts.verifyPassword('alice', 'secret')).toBe(true);
      expect(await second.accounts.verifyPassword('bob', 'old')).toBe(true);
      await first.accounts.delete('alice');
      await first.accounts.changePassword('bob', 'new');
      expect(await second.accounts.verifyPassword('alice', 'secret')).toBe(false);
      expect(await second.accounts.scramKeys('alice', 'SHA-256')).toBeUndefined();
      expect(await second.accounts.verifyPassword('bob', 'old')).toBe(false);
      expect(await second.accounts.verifyPassword('bob', 'new')).toBe(true);
    });
  });
}
