/**
 * What the SQLite store costs per login and per offline message, measured on its own (no HTTP, no
 * XMPP): the account reads a login makes, and offline pushes and takes, against a database file in a
 * temporary DATA_DIR, beside the memory store for reference. Figures go to docs/performance.md
 * ("Storage cost").
 *
 *   node -r ./scripts/register-ts.js bench/store-cost.ts [--ops=10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountStore } from '../src/store/account-store';
import { AuthCache } from '../src/store/auth-cache';
import { MemoryAccountStore } from '../src/store/memory-account-store';
import { MemoryOfflineStore, type OfflineStore } from '../src/store/offline-store';
import { openDatabase } from '../src/store/sqlite/database';
import { SqliteAccountStore } from '../src/store/sqlite/sqlite-account-store';
import { SqliteOfflineStore } from '../src/store/sqlite/sqlite-offline-store';

const OPS = Number(/^--ops=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--ops=')) ?? '')?.[1] ?? 10_000);
const ACCOUNTS = 1000;
const ITERATIONS = 4096;
const STANZA = `<message from='alice@localhost/web' to='bob@localhost' type='chat' id='abc123' xmlns='jabber:client'><body>${'x'.repeat(120)}</body></message>`;

interface Figure {
  readonly what: string;
  readonly ops: number;
  readonly ms: number;
}

async function timed(what: string, ops: number, run: (i: number) => Promise<unknown>): Promise<Figure> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await run(i);
  return { what, ops, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

async function accounts(name: string, store: AccountStore): Promise<Figure[]> {
  for (let i = 0; i < ACCOUNTS; i++) await store.create(`user${i}`, `pw${i}`);
  const user = (i: number): string => `user${i % ACCOUNTS}`;
  // Warm the auth cache: a repeat PLAIN login is a key read plus an HMAC.
  for (let i = 0; i < ACCOUNTS; i++) await store.verifyPassword(user(i), `pw${i}`);
  return [
    await timed(`${name}: exists (routing to a bare JID)`, OPS, (i) => store.exists(user(i))),
    await timed(`${name}: scramKeys (SCRAM login)`, OPS, (i) => store.scramKeys(user(i), 'SHA-256')),
    await timed(`${name}: verifyPassword, auth cache hit (repeat PLAIN login)`, OPS, (i) => store.verifyPassword(user(i), `pw${i % ACCOUNTS}`)),
    await timed(`${name}: verifyPassword, PBKDF2 (first PLAIN login)`, Math.min(OPS, 1000), (i) => store.verifyPassword(user(i), 'wrong')),
  ];
}

async function offline(name: string, store: OfflineStore): Promise<Figure[]> {
  // 100 recipients, OPS messages spread over them (well under the per-user limit), then every queue
  // handed over (a lease, then a settle of all of it: a login whose client confirmed everything).
  const users = 100;
  const at = new Date();
  const push = await timed(`${name}: offline push`, OPS, (i) => store.push(`rcpt${i % users}`, { stanza: STANZA, storedAt: at }));
  const takeAll = async (user: string): Promise<void> => {
    const leased = await store.lease(user, 300_000);
    await store.settle(
      user,
      leased.map((m) => m.id),
    );
  };
  const take = await timed(`${name}: offline lease + settle (${OPS / users} messages each)`, users, (i) => takeAll(`rcpt${i}`));
  return [push, { what: `${name}: offline lease + settle, per message`, ops: OPS, ms: take.ms }, take];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'store-cost-'));
  const db = openDatabase(dir);
  try {
    const figures = [
      ...(await accounts('sqlite', new SqliteAccountStore(db, ITERATIONS, new AuthCache(100_000, 900_000)))),
      ...(await accounts('memory', new MemoryAccountStore(ITERATIONS, new AuthCache(100_000, 900_000)))),
      ...(await offline('sqlite', new SqliteOfflineStore(db, 1000, 10_000_000))),
      ...(await offline('memory', new MemoryOfflineStore(1000, 10_000_000))),
    ];
    console.log(`| operation | ops | ops/s | µs/op |\n|---|---:|---:|---:|`);
    for (const f of figures) {
      console.log(
        `| ${f.what} | ${f.ops.toLocaleString('en')} | ${Math.round((f.ops / f.ms) * 1000).toLocaleString('en')} | ${((f.ms * 1000) / f.ops).toFixed(1)} |`,
      );
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
