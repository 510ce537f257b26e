import { AccountError } from '../../src/store/account-error';
import { AuthCache } from '../../src/store/auth-cache';
import { ConfiguredAccounts } from '../../src/store/configured-accounts';
import { MemoryAccountStore } from '../../src/store/memory-account-store';

const ITERATIONS = 4096;

async function setup(): Promise<{ configured: MemoryAccountStore; stored: MemoryAccountStore; accounts: ConfiguredAccounts }> {
  const cache = new AuthCache(100, 60_000);
  const configured = new MemoryAccountStore(ITERATIONS, cache);
  const stored = new MemoryAccountStore(ITERATIONS, cache);
  await configured.setPassword('alice', 'from-file');
  await stored.create('bob', 'stored');
  return { configured, stored, accounts: new ConfiguredAccounts(configured, stored) };
}

async function condition(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AccountError) return `${err.condition}: ${err.message}`;
    throw err;
  }
  throw new Error('expected an AccountError');
}

describe('USERS / USERS_FILE accounts beside a durable store (ConfiguredAccounts)', () => {
  it('logs in accounts of either source', async () => {
    const { accounts } = await setup();
    expect(await accounts.verifyPassword('alice', 'from-file')).toBe(true);
    expect(await accounts.verifyPassword('bob', 'stored')).toBe(true);
    expect(await accounts.scramKeys('alice', 'SHA-256')).toBeDefined();
    expect(await accounts.exists('carol')).toBe(false);
  });

  it('refuses to change or delete a configured account, saying where it is defined', async () => {
    const { accounts } = await setup();
    expect(await condition(accounts.delete('alice'))).toMatch(/^read-only: .*USERS or USERS_FILE/);
    expect(await condition(accounts.changePassword('alice', 'x'))).toMatch(/^read-only: /);
    expect(await condition(accounts.create('alice', 'x'))).toMatch(/^conflict: /);
    expect(await accounts.verifyPassword('alice', 'from-file')).toBe(true);
  });

  it('manages stored accounts in the durable store, and never writes a configured one there', async () => {
    const { accounts, stored } = await setup();
    await accounts.create('carol', 'c');
    expect(await stored.exists('carol')).toBe(true);
    await accounts.changePassword('bob', 'new');
    expect(await accounts.verifyPassword('bob', 'new')).toBe(true);
    expect(await accounts.delete('bob')).toBe(true);
    expect(await accounts.verifyPassword('bob', 'new')).toBe(false);
    await accounts.verifyPassword('alice', 'from-file');
    await accounts.scramKeys('alice', 'SHA-1');
    expect(await stored.exists('alice')).toBe(false);
  });

  it('answers for a name in both sources with the configured account', async () => {
    const { accounts, configured } = await setup();
    await configured.setPassword('bob', 'from-file');
    expect(await accounts.verifyPassword('bob', 'from-file')).toBe(true);
    expect(await accounts.verifyPassword('bob', 'stored')).toBe(false);
  });

  it('lists both sources in one name order, page by page, marking configured accounts read-only', async () => {
    const { accounts, configured } = await setup();
    await configured.setPassword('dave', 'd');
    await accounts.create('carol', 'c');
    await accounts.create('erin', 'e');
    const first = await accounts.list({ limit: 3 });
    expect(first.accounts).toEqual([
      { username: 'alice', readOnly: true },
      { username: 'bob', readOnly: false },
      { username: 'carol', readOnly: false },
    ]);
    const second = await accounts.list({ after: first.next, limit: 3 });
    expect(second.accounts).toEqual([
      { username: 'dave', readOnly: true },
      { username: 'erin', readOnly: false },
    ]);
    expect(second.next).toBeUndefined();
  });
});
