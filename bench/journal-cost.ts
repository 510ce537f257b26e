/**
 * What the cluster's journal (BUS_JOURNAL, src/cluster/redis-journal.ts) adds to a message between two
 * sessions of one node, measured on its own (no HTTP, no BOSH): Router.route to a session of this node
 * with a journal on a redis-server of its own, beside the same route without one. The session settles
 * each copy at once, as a client confirming it would, so every message costs its XADD and its XDEL.
 * `route` is what the sender's request waits for (the entry written); `delivered` is when the session
 * got the message (never behind Redis). Sequential: one message at a time; concurrent: `--burst`
 * messages routed together (their XADDs share a pipeline).
 *
 *   node -r ./scripts/register-ts.js bench/journal-cost.ts [--ops=5000] [--burst=50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeJid, parseJid, type Jid } from '../src/base/jid';
import { RedisKeys } from '../src/cluster/keys';
import { RedisJournal } from '../src/cluster/redis-journal';
import { createLogger } from '../src/observability/logger';
import { createRedis, whenReady } from '../src/redis/redis-client';
import { BUS_MESSAGE_KINDS } from '../src/routing/bus-kinds';
import type { LocalResource } from '../src/routing/resource';
import type { ClusterLink, MessageJournal } from '../src/routing/route-table';
import { Router } from '../src/routing/router';
import type { AccountStore } from '../src/store/account-store';
import { parseStrictXml } from '../src/xml';
import { RedisServer } from './lib/cluster';

const arg = (name: string, fallback: number): number =>
  Number(new RegExp(`^--${name}=(\\d+)$`).exec(process.argv.find((a) => a.startsWith(`--${name}=`)) ?? '')?.[1] ?? fallback);
const OPS = arg('ops', 5000);
const BURST = arg('burst', 50);
const stanza = (id: number) =>
  parseStrictXml(
    `<message from='alice@localhost/web' to='bob@localhost' type='chat' id='m${id}' xmlns='jabber:client'><body>${'x'.repeat(120)}</body></message>`,
  );

interface Sample {
  readonly route: number;
  readonly delivered: number;
}

/** When each message (by id) reached the session. */
type Deliveries = Map<string, bigint>;

async function routerWith(journal: MessageJournal | undefined, deliveries: Deliveries): Promise<Router> {
  const cluster: ClusterLink = {
    node: 'bench',
    isAlive: async () => true,
    busKinds: async () => new Set(BUS_MESSAGE_KINDS),
    routes: { resources: async () => [], put: async () => undefined, remove: async () => undefined },
    bus: { send: async () => undefined },
    journal,
  };
  const router = new Router('localhost', { exists: async () => true } as unknown as AccountStore, cluster);
  const jid = parseJid('bob@localhost/phone') as Jid;
  const session: LocalResource = {
    jid,
    resource: jid.resource,
    deliver: (message, settled) => {
      deliveries.set(String(message.attrs.id), process.hrtime.bigint());
      // The client confirms at once: the entry's deletion is part of the cost.
      settled?.();
    },
    replaced: () => undefined,
    closeWith: () => undefined,
  };
  await router.bind(session);
  await router.update(session, { available: true, priority: 0 });
  return router;
}

async function measure(router: Router, deliveries: Deliveries, ops: number, burst: number): Promise<Sample[]> {
  const bob = makeJid('bob', 'localhost');
  const samples: Sample[] = [];
  deliveries.clear();
  for (let done = 0; done < ops; done += burst) {
    await Promise.all(
      Array.from({ length: Math.min(burst, ops - done) }, async (_, i) => {
        const id = done + i;
        const started = process.hrtime.bigint();
        await router.route(stanza(id), bob);
        const routed = process.hrtime.bigint();
        const delivered = deliveries.get(`m${id}`) ?? routed;
        samples.push({ route: Number(routed - started) / 1e6, delivered: Number(delivered - started) / 1e6 });
      }),
    );
  }
  return samples;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function line(what: string, samples: Sample[], seconds: number): string {
  const routes = samples.map((s) => s.route);
  const mean = routes.reduce((a, b) => a + b, 0) / routes.length;
  return `| ${what} | ${(samples.length / seconds).toFixed(0)} | ${mean.toFixed(3)} | ${quantile(routes, 0.5).toFixed(3)} | ${quantile(routes, 0.99).toFixed(3)} | ${quantile(
    samples.map((s) => s.delivered),
    0.99,
  ).toFixed(3)} |`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'journal-cost-'));
  const server = new RedisServer();
  await server.start(dir, undefined);
  const logger = createLogger('silent');
  const redis = createRedis({ url: server.url }, 'bench:main', logger);
  await whenReady(redis, 5000);
  try {
    const rows: string[] = [];
    for (const burst of [1, BURST]) {
      for (const journaled of [false, true]) {
        const deliveries: Deliveries = new Map();
        const journal = journaled ? new RedisJournal(redis, new RedisKeys('bench:'), 'bench', logger) : undefined;
        const router = await routerWith(journal, deliveries);
        // Warm-up, then the measured run.
        await measure(router, deliveries, Math.min(500, OPS), burst);
        const started = process.hrtime.bigint();
        const samples = await measure(router, deliveries, OPS, burst);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        await journal?.idle();
        rows.push(line(`${journaled ? 'journal' : 'no journal'}, ${burst === 1 ? 'one at a time' : `${burst} at once`}`, samples, seconds));
      }
    }
    const left = await redis.xlen('bench:journal:bench');
    process.stdout.write(
      `| route to a session of this node | messages/s | route mean (ms) | route p50 (ms) | route p99 (ms) | delivered p99 (ms) |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n\nentries left in the journal: ${left}\n`,
    );
  } finally {
    redis.disconnect();
    server.child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
