import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/logger';
import { normaliseLocal } from '../base/jid';
import type { MemoryAccountStore } from './memory-account-store';
import { decodeKeys, type ScramHash, type ScramKeys } from './scram-keys';

/**
 * Accounts file format, one account per line (blank lines and lines starting with # are skipped):
 *   name:password
 *   name:$scram$<SCRAM-SHA-1 keys>$<SCRAM-SHA-256 keys>   (keys as iterations:salt:storedKey:serverKey)
 * The second form is what `npm run users:hash` writes; the first is derived lazily at first login.
 */
export const HASHED_PREFIX = '$scram$';

export class UsersFileError extends Error {}

export interface UserLine {
  readonly username: string;
  /** Exactly one of the two is set. */
  readonly password?: string;
  readonly keys?: Partial<Record<ScramHash, ScramKeys>>;
}

export function parseUserLine(line: string, where: string): UserLine | undefined {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '' || text.startsWith('#')) return undefined;
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsersFileError(`${where}: expected name:password`);
  const username = normaliseLocal(text.slice(0, colon));
  if (username === undefined) throw new UsersFileError(`${where}: '${text.slice(0, colon)}' is not a valid XMPP localpart`);
  const secret = text.slice(colon + 1);
  if (secret === '') throw new UsersFileError(`${where}: empty password for '${username}'`);
  if (!secret.startsWith(HASHED_PREFIX)) return { username, password: secret };
  const [sha1, sha256] = secret.slice(HASHED_PREFIX.length).split('$');
  const keys1 = sha1 ? decodeKeys(sha1) : undefined;
  const keys256 = sha256 ? decodeKeys(sha256) : undefined;
  // Keys of the wrong size (e.g. the two hashes swapped) or no iterations would fail every login later.
  if (!keys1 || !keys256 || !usableKeys(keys1, 20) || !usableKeys(keys256, 32)) {
    throw new UsersFileError(`${where}: malformed hashed entry for '${username}'`);
  }
  return { username, keys: { 'SHA-1': keys1, 'SHA-256': keys256 } };
}

function usableKeys(keys: ScramKeys, hashLength: number): boolean {
  return keys.iterations >= 1 && keys.salt.length > 0 && keys.storedKey.length === hashLength && keys.serverKey.length === hashLength;
}

/** USERS: `name:password,name:password`. Keys are derived now: the list is short by nature. */
export async function loadUsersList(list: string, store: MemoryAccountStore): Promise<number> {
  let count = 0;
  for (const [index, entry] of list.split(',').entries()) {
    const line = parseUserLine(entry.trim(), `USERS entry ${index + 1}`);
    if (!line) continue;
    if (line.keys) store.setKeys(line.username, line.keys);
    else await store.setPassword(line.username, line.password as string);
    count++;
  }
  return count;
}

/**
 * USERS_FILE: read to index the accounts. Plain-text passwords are not kept: each account
 * remembers where its line is, and its keys are derived from the file at its first login.
 */
export async function loadUsersFile(path: string, store: MemoryAccountStore): Promise<number> {
  return (await indexUsersFile(path, store, new UsersFileReader(path))).count;
}

/**
 * Indexes the file into the store and says which accounts it defines. An account whose line is the
 * same as at the last reading keeps the keys it already derived (its line may have moved).
 */
async function indexUsersFile(path: string, store: MemoryAccountStore, reader: UsersFileReader): Promise<{ count: number; names: Set<string> }> {
  const content = await readFile(path);
  const names = new Set<string>();
  let count = 0;
  let start = 0;
  let lineNumber = 0;
  try {
    while (start < content.length) {
      let end = content.indexOf(0x0a, start);
      if (end < 0) end = content.length;
      lineNumber++;
      const line = parseUserLine(content.toString('utf8', start, end), `${path}:${lineNumber}`);
      if (line) {
        const origin = createHash('sha256').update(content.subarray(start, end)).digest('base64');
        if (line.keys) store.setKeys(line.username, line.keys, origin);
        else store.setPasswordSource(line.username, passwordAt(reader, start, end - start, line.username), origin);
        names.add(line.username);
        count++;
      }
      start = end + 1;
    }
  } finally {
    content.fill(0);
  }
  return { count, names };
}

/**
 * USERS_FILE kept in step with the file: when it changes (written in place or replaced by a rename),
 * it is read again after a short quiet period; accounts whose line is gone are removed at once, so
 * they can no longer log in by any mechanism, and changed lines replace their accounts. A file that
 * cannot be parsed leaves the accounts as they were (a half-written file is read again when the
 * writer finishes); a file that is gone removes every account it defined.
 */
export class WatchedUsersFile {
  private readonly reader: UsersFileReader;
  private names = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending = false;
  private readonly listeners: Array<(accounts: number) => void> = [];

  constructor(
    readonly path: string,
    private readonly store: MemoryAccountStore,
    private readonly logger: Logger,
    private readonly quietMs = 100,
  ) {
    this.reader = new UsersFileReader(path);
  }

  /** Reads the file the first time (errors are the caller's: a node does not start on a bad file). */
  async load(): Promise<number> {
    const { count, names } = await indexUsersFile(this.path, this.store, this.reader);
    this.names = names;
    return count;
  }

  /** Watches the file's folder: a rename over the file (how editors and config tools save) is seen too. */
  watch(): void {
    if (this.watcher) return;
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
      if (filename === null || filename.toString() === name) this.schedule();
    });
    this.watcher.on('error', (err) => this.logger.warn({ err, file: this.path }, 'USERS_FILE watch failed; changes are no longer picked up'));
  }

  /** Called with the number of accounts after every reading of the changed file. */
  onReload(listener: (accounts: number) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.quietMs);
    this.timer.unref();
  }

  /** Reads the file again (one reading at a time; a change during one causes another). */
  reload(): Promise<void> {
    if (this.running) {
      this.pending = true;
      return this.running;
    }
    this.running = this.readAgain().finally(() => {
      this.running = undefined;
      if (this.pending) {
        this.pending = false;
        void this.reload();
      }
    });
    return this.running;
  }

  private async readAgain(): Promise<void> {
    let names: Set<string>;
    try {
      names = (await indexUsersFile(this.path, this.store, this.reader)).names;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ err: (err as Error).message, file: this.path }, 'USERS_FILE not reloaded; its accounts stay as they were');
        return;
      }
      this.logger.warn({ file: this.path }, 'USERS_FILE is gone; its accounts are removed');
      names = new Set();
    }
    let removed = 0;
    for (const name of this.names) {
      if (names.has(name)) continue;
      // Its logins end; its roster, messages and documents stay in the durable store (never reached
      // from here): the file is read-only, and a line put back finds them (docs/configuration.md).
      await this.store.delete(name);
      removed++;
    }
    this.names = names;
    this.logger.info({ file: this.path, accounts: names.size, removed }, 'USERS_FILE reloaded');
    for (const listener of this.listeners) listener(names.size);
  }
}

/**
 * One open descriptor per users file, reused for every first login: a positioned read of one line from
 * the page cache costs microseconds on the main thread, less than a thread-pool round trip. A watch on
 * the file drops the descriptor when the file is replaced or removed, so the next read sees that.
 */
class UsersFileReader {
  private fd: number | undefined;
  private watcher: FSWatcher | undefined;

  constructor(readonly path: string) {}

  read(buffer: Buffer, position: number): number {
    if (this.fd === undefined) {
      this.fd = openSync(this.path, 'r');
      try {
        this.watcher = watch(this.path, { persistent: false }, () => this.drop());
        this.watcher.on('error', () => this.drop());
      } catch {
        // Without a watch every read opens the file afresh.
        this.watcher = undefined;
      }
    }
    const fd = this.fd;
    try {
      return readSync(fd, buffer, 0, buffer.length, position);
    } finally {
      if (!this.watcher) this.drop();
    }
  }

  private drop(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/**
 * Reads the account's line back from where it was at start-up. When the file changed since (the line
 * is no longer a whole line at that place, names someone else, or the file is gone) the answer is
 * undefined: the login is refused rather than guessed.
 */
function passwordAt(reader: UsersFileReader, offset: number, length: number, username: string): () => Promise<string | undefined> {
  return async () => {
    // One byte either side: a newline (or the edge of the file) must still bound the line.
    const from = offset > 0 ? offset - 1 : 0;
    const lineAt = offset - from;
    const buffer = Buffer.alloc(lineAt + length + 1);
    try {
      const bytesRead = reader.read(buffer, from);
      if (bytesRead < lineAt + length) return undefined;
      if (lineAt > 0 && buffer[0] !== 0x0a) return undefined;
      if (bytesRead > lineAt + length && buffer[lineAt + length] !== 0x0a) return undefined;
      const line = parseUserLine(buffer.toString('utf8', lineAt, lineAt + length), reader.path);
      return line && line.username === username ? line.password : undefined;
    } catch {
      return undefined;
    } finally {
      buffer.fill(0);
    }
  };
}
