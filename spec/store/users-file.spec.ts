import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthCache } from '../../src/store/auth-cache';
import { MemoryAccountStore } from '../../src/store/memory-account-store';
import { deriveScramKeys, encodeKeys, type ScramKeys } from '../../src/store/scram-keys';
import { HASHED_PREFIX, loadUsersFile, loadUsersList, parseUserLine, UsersFileError } from '../../src/store/users-file';

const ITERATIONS = 4096;

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-file-spec-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(content: string | Buffer): string {
  const path = join(dir, `users-${++fileCount}.txt`);
  writeFileSync(path, content);
  return path;
}

const newStore = (): MemoryAccountStore => new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));

async function hashedLine(name: string, password: string): Promise<{ line: string; sha1: ScramKeys; sha256: ScramKeys }> {
  const sha1 = await deriveScramKeys('SHA-1', password, ITERATIONS);
  const sha256 = await deriveScramKeys('SHA-256', password, ITERATIONS);
  return { line: `${name}:${HASHED_PREFIX}${encodeKeys(sha1)}$${encodeKeys(sha256)}`, sha1, sha256 };
}

async function loadError(content: string): Promise<UsersFileError> {
  const path = file(content);
  try {
    await loadUsersFile(path, newStore());
  } catch (err) {
    if (err instanceof UsersFileError) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

describe('a users file of name:password lines gives accounts that log in with those passwords', () => {
  it('loads every account line and counts them', async () => {
    const store = newStore();
    expect(await loadUsersFile(file('alice:secret\nbob:hunter2\n'), store)).toBe(2);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('bob', 'hunter2')).toBe(true);
    expect(await store.verifyPassword('alice', 'hunter2')).toBe(false);
  });

  it('skips blank lines and # comments, and reads a last line without a newline', async () => {
    const store = newStore();
    expect(await loadUsersFile(file('# accounts\n\n   \nalice:secret\n# bob:nope\nbob:pw'), store)).toBe(2);
    expect(await store.exists('bob')).toBe(true);
    expect(await store.verifyPassword('bob', 'pw')).toBe(true);
  });

  it('reads CRLF line endings without taking the CR into the password', async () => {
    const store = newStore();
    await loadUsersFile(file('alice:secret\r\nbob:pw\r\n'), store);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('alice', 'secret\r')).toBe(false);
    const keys = await store.scramKeys('bob', 'SHA-1');
    expect(keys).toBeDefined();
    expect(await store.verifyPassword('bob', 'pw')).toBe(true);
  });

  it('splits at the first colon, so a password may contain colons', async () => {
    const store = newStore();
    await loadUsersFile(file('alice:a:b:c\n'), store);
    expect(await store.verifyPassword('alice', 'a:b:c')).toBe(true);
  });

  it('normalises the name as an XMPP localpart (RFC 7622 §3.3)', async () => {
    const store = newStore();
    await loadUsersFile(file('Alice:secret\n'), store);
    expect(await store.exists('alice')).toBe(true);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
  });

  it('reads multi-byte UTF-8 names and passwords from the right offsets', async () => {
    const store = newStore();
    await loadUsersFile(file('zoë:pässwörd\nχρήστης:κωδικός\nlast:one\n'), store);
    expect(await store.verifyPassword('zoë', 'pässwörd')).toBe(true);
    expect(await store.verifyPassword('χρήστης', 'κωδικός')).toBe(true);
    expect(await store.verifyPassword('last', 'one')).toBe(true);
  });
});

describe('a users file with $scram$ lines gives accounts with exactly those keys (RFC 5802 §3)', () => {
  it('loads both hashes from the line and logs in with the password they were derived from', async () => {
    const { line, sha1, sha256 } = await hashedLine('alice', 'secret');
    const store = newStore();
    expect(await loadUsersFile(file(`${line}\n`), store)).toBe(1);
    expect(await store.scramKeys('alice', 'SHA-1')).toEqual(sha1);
    expect(await store.scramKeys('alice', 'SHA-256')).toEqual(sha256);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('alice', 'wrong')).toBe(false);
  });

  it('mixes hashed and plain lines in one file', async () => {
    const { line } = await hashedLine('alice', 'secret');
    const store = newStore();
    expect(await loadUsersFile(file(`${line}\r\nbob:pw\r\n`), store)).toBe(2);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('bob', 'pw')).toBe(true);
  });
});

describe('a bad line refuses the whole file, naming the file and line number', () => {
  it.each([
    ['a line without a colon', 'no-colon-here', 'expected name:password'],
    ['a line with an empty name', ':secret', 'expected name:password'],
    ['a name that is not a localpart', 'bad name:secret', 'not a valid XMPP localpart'],
    ['an empty password', 'alice:', 'empty password'],
    ['a $scram$ line with one hash missing', 'alice:$scram$4096:c2FsdA==:a2V5:a2V5', 'malformed hashed entry'],
    ['a $scram$ line with a non-numeric iteration count', 'alice:$scram$x:c2FsdA==:a2V5:a2V5$x:c2FsdA==:a2V5:a2V5', 'malformed hashed entry'],
  ])('refuses %s', async (_what, bad, message) => {
    const error = await loadError(`# header\n\nok:pw\n${bad}\nlater:pw\n`);
    expect(error.message).toContain(':4:');
    expect(error.message).toContain(message);
  });

  it('counts CRLF lines, comments and blank lines in the line number', async () => {
    const error = await loadError('# a\r\n\r\nalice:pw\r\n\r\nbroken\r\n');
    expect(error.message).toMatch(/:5: /);
  });

  it('refuses a $scram$ line whose keys have the wrong length for their hash (e.g. the two hashes swapped)', async () => {
    const sha1 = await deriveScramKeys('SHA-1', 'secret', ITERATIONS);
    const sha256 = await deriveScramKeys('SHA-256', 'secret', ITERATIONS);
    const swapped = `alice:${HASHED_PREFIX}${encodeKeys(sha256)}$${encodeKeys(sha1)}`;
    const error = await loadError(`${swapped}\n`);
    expect(error.message).toContain(':1:');
  });

  it('refuses a $scram$ line with an iteration count of zero', async () => {
    const sha1 = { ...(await deriveScramKeys('SHA-1', 'secret', ITERATIONS)), iterations: 0 };
    const sha256 = { ...(await deriveScramKeys('SHA-256', 'secret', ITERATIONS)), iterations: 0 };
    const error = await loadError(`alice:${HASHED_PREFIX}${encodeKeys(sha1)}$${encodeKeys(sha256)}\n`);
    expect(error.message).toContain(':1:');
  });
});

describe('a large users file is indexed and read lazily', () => {
  // How long the load takes is a bench figure (start-up with the bench's 100,000-line USERS_FILE), not a test.
  it('indexes 100,000 accounts, and its accounts can log in', async () => {
    const lines: string[] = ['# generated'];
    for (let i = 0; i < 100_000; i++) lines.push(`user${i}:password-${i}`);
    const path = file(`${lines.join('\n')}\n`);
    const store = newStore();
    expect(await loadUsersFile(path, store)).toBe(100_000);
    expect(store.size).toBe(100_000);
    expect(await store.verifyPassword('user54321', 'password-54321')).toBe(true);
    expect(await store.verifyPassword('user54321', 'password-54322')).toBe(false);
    expect(await store.scramKeys('user99999', 'SHA-1')).toBeDefined();
  });
});

describe('a users file that changes after it was loaded refuses logins rather than guessing', () => {
  it('refuses an account whose line now belongs to someone else', async () => {
    const path = file('alice:secret\nbob:secret\n');
    const store = newStore();
    await loadUsersFile(path, store);
    writeFileSync(path, 'carol:secret\nbob:secret\n');
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
    expect(await store.scramKeys('alice', 'SHA-256')).toBeUndefined();
  });

  it('refuses the old password when the line now holds a longer password', async () => {
    const path = file('alice:secret\nbob:pw\n');
    const store = newStore();
    await loadUsersFile(path, store);
    writeFileSync(path, 'alice:secret-changed\nbob:pw\n');
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
  });

  it('refuses the old password when the line now holds a shorter one, as the last line of the file', async () => {
    const path = file('bob:pw\nalice:secret');
    const store = newStore();
    await loadUsersFile(path, store);
    writeFileSync(path, 'bob:pw\nalice:sec');
    expect(await store.verifyPassword('alice', 'secret')).toBe(false);
    expect(await store.verifyPassword('alice', 'sec')).toBe(false);
  });

  it('refuses logins, without an error, once the file is gone', async () => {
    const path = file('alice:secret\n');
    const store = newStore();
    await loadUsersFile(path, store);
    unlinkSync(path);
    await expect(store.verifyPassword('alice', 'secret')).resolves.toBe(false);
    await expect(store.scramKeys('alice', 'SHA-256')).resolves.toBeUndefined();
  });

  it('keeps working for an account whose keys were derived before the change', async () => {
    const path = file('alice:secret\n');
    const store = newStore();
    await loadUsersFile(path, store);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    await store.scramKeys('alice', 'SHA-1');
    writeFileSync(path, 'mallory:secret\n');
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
  });
});

describe('USERS is a comma list of name:password entries, derived at start', () => {
  it('loads each entry and counts them', async () => {
    const store = newStore();
    expect(await loadUsersList('alice:secret, bob:secret', store)).toBe(2);
    expect(await store.verifyPassword('alice', 'secret')).toBe(true);
    expect(await store.verifyPassword('bob', 'secret')).toBe(true);
  });

  it('names the bad entry by its position', async () => {
    await expect(loadUsersList('alice:secret,broken', newStore())).rejects.toThrow(/USERS entry 2/);
  });
});

describe('parseUserLine reads one line of the format', () => {
  it('returns nothing for blank and comment lines', () => {
    expect(parseUserLine('', 'x:1')).toBeUndefined();
    expect(parseUserLine('# alice:secret', 'x:1')).toBeUndefined();
    expect(parseUserLine('\r', 'x:1')).toBeUndefined();
  });
});
