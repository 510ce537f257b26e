import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/logger';
import { AuthCache } from '../../src/store/auth-cache';
import { MemoryAccountStore } from '../../src/store/memory-account-store';
import { WatchedUsersFile } from '../../src/store/users-file';

const ITERATIONS = 4096;
const logger = createLogger('silent');

let dir: string;
let path: string;
let store: MemoryAccountStore;
let users: WatchedUsersFile;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'watched-users-'));
  path = join(dir, 'users.txt');
  // A cache that would vouch for every earlier success, to show it does not outlive an account.
  store = new MemoryAccountStore(ITERATIONS, new AuthCache(100, 3_600_000));
});

afterEach(() => {
  users?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(content: string): Promise<void> {
  writeFileSync(path, content);
  users = new WatchedUsersFile(path, store, logger, 10);
  await users.load();
}

/** Resolves after the next reading the watch causes. */
const reloaded = (): Promise<number> => new Promise((resolve) => users.onReload(resolve));

describe('a users file read again on request', () => {
  it('removes an account whose line is gone, even after a SCRAM login derived its keys and a PLAIN login was cached', async () => {
    await open('alice:secret\nbob:pw\n');
    expect(await store.scramKeys('alice', 'SHA-256')).toBeDefined();
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    writeFileSync(path, 'bob:pw\n');
    await users.reload();
    expect(await store.exists('alice')).toBe(false);
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
    expect(await store.scramKeys('alice', 'SHA-256')).toBeUndefined();
    expect(await store.verifyPassword('bob', 'pw')).toBe(true);
  });

  it('gives an account whose line changed its new password only', async () => {
    await open('alice:old\n');
    expect(await store.verifyPassword('alice', 'old')).toBe(true);
    await store.scramKeys('alice', 'SHA-1');
    writeFileSync(path, 'alice:new\n');
    await users.reload();
    expect(await store.verifyPassword('alice', 'old')).toBe(false);
    expect(await store.verifyPassword('alice', 'new')).toBe(true);
  });

  it('keeps what an unchanged account derived, even when its line moved', async () => {
    await open('alice:secret\nbob:pw\n');
    const keys = await store.scramKeys('bob', 'SHA-256');
    writeFileSync(path, '# bob stays\nbob:pw\n');
    await users.reload();
    expect(await store.scramKeys('bob', 'SHA-256')).toBe(keys);
    expect(await store.verifyPassword('bob', 'pw')).toBe(true);
    expect(await store.scramKeys('bob', 'SHA-1')).toBeDefined();
  });

  it('leaves the accounts as they were when the new file cannot be parsed', async () => {
    await open('alice:secret\n');
    writeFileSync(path, 'alice:secret\nbroken line\n');
    await users.reload();
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
  });

  it('removes every account of a file that is gone', async () => {
    await open('alice:secret\nbob:pw\n');
    unlinkSync(path);
    await users.reload();
    expect(store.size).toBe(0);
  });
});

describe('a watched users file', () => {
  it('is read again when it is written in place', async () => {
    await open('alice:secret\nbob:pw\n');
    users.watch();
    const next = reloaded();
    writeFileSync(path, 'bob:pw\n');
    expect(await next).toBe(1);
    expect(await store.exists('alice')).toBe(false);
  });

  it('is read again when it is replaced by a rename (how editors and config tools save)', async () => {
    await open('alice:secret\nbob:pw\n');
    users.watch();
    const next = reloaded();
    writeFileSync(join(dir, 'users.new'), 'alice:secret\ncarol:c\n');
    renameSync(join(dir, 'users.new'), path);
    expect(await next).toBe(2);
    expect(await store.exists('bob')).toBe(false);
    expect(await store.verifyPassword('carol', 'c')).toBe(true);
  });
});
