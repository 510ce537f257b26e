/**
 * A room of the MUC service (XEP-0045) with `--occupants` occupants (default 200), each its own BOSH
 * session, and `--rate` room messages per second (default 10) from occupants in turn for `--seconds`
 * (default 20): the time from a message leaving its sender to its arrival at each occupant (p50, p99,
 * max over every delivery), and how many deliveries were missing. One gateway process with its default
 * storage (SQLite under a fresh DATA_DIR, archiving on), or with --cluster=N, N nodes sharing one Redis
 * behind nginx (each session lands on the node nginx picks); the clients run in this process. Figures go to
 * docs/performance.md ("Rooms").
 *
 *   node -r ./scripts/register-ts.js bench/room-fanout.ts [--occupants=200] [--rate=10] [--seconds=20] [--memory] [--cluster=3]
 */
import * as hdr from 'hdr-histogram-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session, Transport } from './lib/bosh';
import { passwordFor, userFor } from './lib/protocol';
import { ensureBuilt, ServerProcess } from './lib/server';
import { Cluster } from './lib/cluster';

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
const ROOM = `bench@conference.${DOMAIN}`;

const log = (s: string): void => void process.stdout.write(`[room-fanout] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
  const transport = new Transport(origin, '/http-bind');
  const histogram = hdr.build({ numberOfSignificantValueDigits: 3 });
  const sentAt = new Map<number, number>();
  let delivered = 0;
  const joined = new Set<number>();
  let unlocked = false;
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < OCCUPANTS; i++) {
      const session = new Session(transport, userFor(i), DOMAIN);
      await session.login(passwordFor(i), 'bench', 'presence');
      session.events = {
        onText: (_s, text) => {
          const now = performance.now();
          // Each groupchat body is 'm<number>'; the subject marks the end of the entry (XEP-0045 §7.2.15).
          for (const match of text.matchAll(/<body>m(\d+)<\/body>/g)) {
            const start = sentAt.get(Number(match[1]));
            if (start === undefined) continue;
            histogram.recordValue(Math.max(1, Math.round((now - start) * 1000)));
            delivered++;
          }
          if (text.includes('<subject')) joined.add(i);
          if (/id=["']instant["']/.test(text)) unlocked = true;
        },
      };
      session.enqueue(
        `<presence to='${ROOM}/o${i}' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
        i,
      );
      sessions.push(session);
      if (i === 0) {
        // The first occupant created the room; accepting the default configuration (XEP-0045 §10.1.2)
        // unlocks it for the others.
        session.enqueue(
          `<iq type='set' id='instant' to='${ROOM}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
          i,
        );
        while (!unlocked) await sleep(20);
      }
    }
    while (joined.size < OCCUPANTS) await sleep(50);
    log(`${OCCUPANTS} occupants in ${ROOM}`);
    const total = RATE * SECONDS;
    const t0 = performance.now();
    for (let n = 0; n < total; n++) {
      const due = t0 + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt.set(n, performance.now());
      sessions[n % OCCUPANTS]?.enqueue(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>m${n}</body></message>`, n);
    }
    const expected = total * OCCUPANTS;
    const deadline = performance.now() + 10_000;
    while (delivered < expected && performance.now() < deadline) await sleep(50);
    const ms = (p: number): string => (histogram.getValueAtPercentile(p) / 1000).toFixed(1);
    log(`${total} messages at ${RATE}/s to ${OCCUPANTS} occupants: ${delivered} of ${expected} deliveries`);
    log(`send-to-arrival p50 ${ms(50)} ms, p99 ${ms(99)} ms, max ${(histogram.maxValue / 1000).toFixed(1)} ms`);
  } finally {
    await Promise.all(sessions.map((s) => s.terminate()));
    await (cluster ? cluster.stop() : server?.stop());
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
