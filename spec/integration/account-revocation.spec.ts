/**
 * Removing an account revokes it everywhere: taken out of USERS_FILE or deleted, it can no longer log
 * in, by PLAIN or SCRAM, on any node, and not after a restart either — however recently it logged in
 * (the PLAIN auth cache) and whatever keys a SCRAM login derived.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { encodeKeys } from '../../src/store/scram-keys';
import { clusterNodeConfig } from '../support/cluster-config';
import { TestRedis } from '../support/redis-server';
import { BoshClient, NS_SASL } from './support/bosh-client';

// Failed logins are answered at once here: the throttle's delays are not what is under test.
const NO_DELAYS = { AUTH_FAILURE_DELAY_MS: '0', AUTH_FAILURE_DELAY_MAX_MS: '0', AUTH_ACCOUNT_DELAY_MAX_MS: '0' };

async function plainLogin(node: RunningNode, user: string, password: string): Promise<boolean> {
  const client = new BoshClient(node.url);
  await client.create();
  const data = Buffer.from(`\0${user}\0${password}`).toString('base64');
  const answer = await client.expect(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${data}</auth>`, (e) => e.attrs.xmlns === NS_SASL);
  return answer.name === 'success';
}

async function scramLogin(node: RunningNode, user: string, password: string, hash: 'sha1' | 'sha256' = 'sha256'): Promise<boolean> {
  const client = new BoshClient(node.url);
  await client.create();
  return (await client.scram(hash, user, password)).success.name === 'success';
}

/** Both mechanisms, as a sentence a failure message can show. */
async function logins(node: RunningNode, user: string, password: string): Promise<string> {
  const plain = (await plainLogin(node, user, password)) ? 'PLAIN ok' : 'PLAIN refused';
  const scram = (await scramLogin(node, user, password)) ? 'SCRAM ok' : 'SCRAM refused';
  return `${plain}, ${scram}`;
}

/** Resolves once every node has read the users file again. */
function reloadedOn(nodes: RunningNode[]): Promise<unknown> {
  return Promise.all(nodes.map((node) => new Promise((resolve) => node.stores.usersFile?.onReload(resolve))));
}

let dir: string;
let usersFile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'revocation-'));
  usersFile = join(dir, 'users.txt');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('one node on SQLite', () => {
  const nodes: RunningNode[] = [];
  const start = async (): Promise<RunningNode> => {
    const node = await startNode(
      loadConfig({ PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', DATA_DIR: join(dir, 'data'), USERS_FILE: usersFile, ...NO_DELAYS }),
    );
    nodes.push(node);
    return node;
  };
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
  });

  it('refuses an account taken out of USERS_FILE at once, though it just logged in by both mechanisms, and after a restart', async () => {
    writeFileSync(usersFile, 'alice:secret\nbob:pw\n');
    let node = await start();
    expect(await logins(node, 'alice', 'secret')).toBe('PLAIN ok, SCRAM ok');
    const reloaded = reloadedOn([node]);
    writeFileSync(usersFile, 'bob:pw\n');
    await reloaded;
    expect(await logins(node, 'alice', 'secret')).toBe('PLAIN refused, SCRAM refused');
    expect(await logins(node, 'bob', 'pw')).toBe('PLAIN ok, SCRAM ok');
    await node.close();
    node = await start();
    expect(await logins(node, 'alice', 'secret')).toBe('PLAIN refused, SCRAM refused');
  });

  it('refuses a deleted account at once, and after a restart, while accounts created beside it still log in', async () => {
    writeFileSync(usersFile, '');
    let node = await start();
    await node.accounts.create('carol', 'c-secret');
    await node.accounts.create('dave', 'd-secret');
    expect(await logins(node, 'carol', 'c-secret')).toBe('PLAIN ok, SCRAM ok');
    expect(await node.accounts.delete('carol')).toBe(true);
    expect(await logins(node, 'carol', 'c-secret')).toBe('PLAIN refused, SCRAM refused');
    await node.close();
    node = await start();
    expect(await logins(node, 'carol', 'c-secret')).toBe('PLAIN refused, SCRAM refused');
    expect(await logins(node, 'dave', 'd-secret')).toBe('PLAIN ok, SCRAM ok');
  });

  it('refuses the old password at once after a change', async () => {
    writeFileSync(usersFile, '');
    const node = await start();
    await node.accounts.create('erin', 'old');
    expect(await plainLogin(node, 'erin', 'old')).toBe(true);
    await node.accounts.changePassword('erin', 'new');
    expect(await logins(node, 'erin', 'old')).toBe('PLAIN refused, SCRAM refused');
    expect(await logins(node, 'erin', 'new')).toBe('PLAIN ok, SCRAM ok');
  });
});

describe('two nodes sharing Redis', () => {
  let redis: TestRedis;
  let inspect: Redis;
  const nodes: RunningNode[] = [];
  const start = async (id: string): Promise<RunningNode> => {
    const node = await startNode(clusterNodeConfig(redis.url, id, { USERS_FILE: usersFile, ...NO_DELAYS }));
    nodes.push(node);
    return node;
  };

  beforeAll(async () => {
    redis = await TestRedis.start();
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close();
    await inspect.flushall();
  });
  afterAll(async () => {
    inspect.disconnect();
    await redis.stop();
  });

  it('refuses an account taken out of USERS_FILE on every node, and never put its SCRAM keys in Redis', async () => {
    writeFileSync(usersFile, 'frank:secret\nbob:pw\n');
    const a = await start('a');
    const b = await start('b');
    expect(await logins(a, 'frank', 'secret')).toBe('PLAIN ok, SCRAM ok');
    expect(await logins(b, 'frank', 'secret')).toBe('PLAIN ok, SCRAM ok');
    expect(await inspect.keys('*account*')).toEqual([]);
    const reloaded = reloadedOn([a, b]);
    writeFileSync(usersFile, 'bob:pw\n');
    await reloaded;
    expect(await logins(a, 'frank', 'secret')).toBe('PLAIN refused, SCRAM refused');
    expect(await logins(b, 'frank', 'secret')).toBe('PLAIN refused, SCRAM refused');
  });

  it('refuses an account deleted on one node at once on the other, where it had just logged in, and after that node restarts', async () => {
    writeFileSync(usersFile, '');
    const a = await start('a');
    let b = await start('b');
    await a.accounts.create('grace', 'g-secret');
    expect(await logins(b, 'grace', 'g-secret')).toBe('PLAIN ok, SCRAM ok');
    expect(await a.accounts.delete('grace')).toBe(true);
    expect(await logins(b, 'grace', 'g-secret')).toBe('PLAIN refused, SCRAM refused');
    await b.close();
    b = await start('b');
    expect(await logins(b, 'grace', 'g-secret')).toBe('PLAIN refused, SCRAM refused');
  });

  it('refuses the old password on the other node at once after a change', async () => {
    writeFileSync(usersFile, '');
    const a = await start('a');
    const b = await start('b');
    await a.accounts.create('heidi', 'old');
    expect(await plainLogin(b, 'heidi', 'old')).toBe(true);
    await a.accounts.changePassword('heidi', 'new');
    expect(await logins(b, 'heidi', 'old')).toBe('PLAIN refused, SCRAM refused');
    expect(await logins(b, 'heidi', 'new')).toBe('PLAIN ok, SCRAM ok');
  });

  it('ignores SCRAM keys an earlier release cached in Redis for a USERS_FILE account', async () => {
    writeFileSync(usersFile, 'ivan:secret\n');
    const a = await start('a');
    expect(await scramLogin(a, 'ivan', 'secret')).toBe(true);
    const keys = await a.stores.configured.scramKeys('ivan', 'SHA-256');
    await inspect.hset('bosh:account:ivan', 'SHA-256', encodeKeys(keys as NonNullable<typeof keys>));
    const reloaded = reloadedOn([a]);
    writeFileSync(usersFile, '');
    await reloaded;
    expect(await logins(a, 'ivan', 'secret')).toBe('PLAIN refused, SCRAM refused');
  });
});
