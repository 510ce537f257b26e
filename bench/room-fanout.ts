/**
 * A room of the MUC service (XEP-0045) with `--occupants` occupants (default 200), each its own BOSH
 * session, and `--rate` room messages per second (default 10) from occupants in turn for `--seconds`
 * (default 20): the time from a message leaving its sender to its arrival at each occupant (p50, p99,
 * max over every delivery), and how many deliveries were missing. One gateway process with its default
 * storage (SQLite under a fresh DATA_DIR, archiving on), or with --cluster=N, N nodes sharing one Redis
 * behind nginx (each session lands on the node nginx picks); the clients run in this process. Figures go to
 * docs/performance.md ("Rooms"); `npm run bench` measures the same in its room phase (bench/lib/room.ts).
 *
 *   node -r ./scripts/register-ts.js bench/room-fanout.ts [--occupants=200] [--rate=10] [--seconds=20] [--memory] [--cluster=3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { passwordFor, userFor } from './lib/protocol';
import { ensureBuilt, ServerProcess } from './lib/server';
import { Cluster } from './lib/cluster';
import { runRoom } from './lib/room';

const arg = (name: string, fallback: number): number =>
  Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const OCCUPANTS = arg('occupants', 200);
const RATE = arg('rate', 10);
const SECONDS = arg('seconds', 20);
/** --cluster=N: N nodes and one Redis behind nginx (round robin), instead of one process. */
const CLUSTER = arg('cluster', 0);
/** --memory: STORAGE=memory instead of the default SQLite. */
const MEMORY = process.argv.includes('--memory');
const ROOT = resolve(__dirname, '..');
const DOMAIN = 'localhost';

const log = (s: string): void => void process.stdout.write(`[room-fanout] ${s}\n`);

async function main(): Promise<void> {
  ensureBuilt(ROOT, log);
  const dir = mkdtempSync(join(tmpdir(), 'bench-room-'));
  const usersFile = join(dir, 'users.txt');
  writeFileSync(usersFile, Array.from({ length: OCCUPANTS }, (_, i) => `${userFor(i)}:${passwordFor(i)}`).join('\n'));
  const node = {
    root: ROOT,
    entry: join(ROOT, 'dist', 'main.js'),
    usersFile,
    domain: DOMAIN,
    path: '/http-bind',
    maxWait: 30,
    inactivity: 60,
    extraEnv: MEMORY ? { STORAGE: 'memory' } : undefined,
  };
  const cluster = CLUSTER
    ? new Cluster({
        nodes: CLUSTER,
        dir: join(dir, 'cluster'),
        heartbeatMs: 1000,
        nodeTtlMs: 5000,
        nginxWorkers: 1,
        nginxKeepalive: 32,
        nofile: 4096,
        nice: undefined,
        lifetimeS: 600,
        node,
      })
    : undefined;
  const server = cluster ? undefined : new ServerProcess(node);
  await (cluster ? cluster.start() : server?.start());
  const origin = cluster ? cluster.origin : (server as ServerProcess).origin;
  log(cluster ? `${CLUSTER} nodes behind nginx at ${origin}` : `one node at ${origin}`);
  try {
    const r = await runRoom(origin, '/http-bind', DOMAIN, { occupants: OCCUPANTS, rate: RATE, seconds: SECONDS, firstAccount: 0, drainMs: 10_000 }, log);
    log(`${r.sent} messages at ${RATE}/s to ${OCCUPANTS} occupants: ${r.delivered} of ${r.expected} deliveries`);
    log(`send-to-arrival p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms`);
  } finally {
    await (cluster ? cluster.stop() : server?.stop());
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
