/**
 * The fault harness: the cluster as an operator runs it — three gateway node processes, nginx
 * round-robin in front (no stickiness), a redis-server with AOF — under chat load from pairs of
 * BOSH clients writing to each other's bare JID, with one fault injected while they chat. Clients
 * whose session ends log in again, as real clients do. Afterwards every message is accounted for.
 *
 * Accounting, per message id:
 *  - accepted: the request that carried it was answered (200, not terminal), or it arrived anyway;
 *  - delivered: its recipient received it at least once (live, or from offline storage at a login);
 *  - twice: received more than once;
 *  - bounced: its sender got an error message with its id back (and it was not delivered);
 *  - lost: accepted, neither delivered nor bounced;
 *  - unconfirmed: its request never got an answer before the session was lost and it never arrived
 *    (the sender was never told it was accepted; not counted as lost).
 * `maxWaitMs` is the longest time (send → receipt) of a message received live by a client whose
 * session lived through the whole run: what a user on a surviving node waits for at worst.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from 'ltx';
import { freePort, TestRedis } from '../../support/redis-server';
import { NginxLoadBalancer } from '../../e2e/support/nginx';
import { ClusterNodeProcess } from '../../e2e/support/node-process';
import { rawRequest } from '../../e2e/support/raw-http';
import { ChatClient } from './chat-client';

export const FAULTS = ['none', 'sigterm', 'sigkill', 'redis-restart', 'sigstop'] as const;
export type Fault = (typeof FAULTS)[number];

export const FAULT_DESCRIPTIONS: Record<Fault, string> = {
  none: 'none',
  sigterm: 'SIGTERM of one node (graceful)',
  sigkill: 'SIGKILL of the busiest node',
  'redis-restart': 'Redis restart (~1 s down, AOF)',
  sigstop: 'a node SIGSTOPped past the TTL, then SIGCONT',
};

export interface FaultRunOptions {
  readonly pairs: number;
  /** Messages per second per pair (the two users take turns). */
  readonly ratePerPair: number;
  readonly seconds: number;
  readonly faultAtSeconds: number;
  readonly heartbeatMs: number;
  readonly nodeTtlMs: number;
  readonly redisDownMs: number;
  /** Extra environment for every node. */
  readonly nodeEnv?: Record<string, string>;
  readonly log?: (line: string) => void;
}

export const DEFAULT_RUN: FaultRunOptions = {
  pairs: 30,
  ratePerPair: 8,
  seconds: 20,
  faultAtSeconds: 8,
  heartbeatMs: 500,
  nodeTtlMs: 2000,
  redisDownMs: 1000,
};

export interface FaultRunResult {
  readonly fault: Fault;
  readonly sent: number;
  readonly accepted: number;
  readonly delivered: number;
  /** Delivered from offline storage (a delay stamp) or after the recipient logged in again. */
  readonly deliveredLate: number;
  readonly bounced: number;
  readonly lost: number;
  readonly twice: number;
  readonly unconfirmed: number;
  readonly maxWaitMs: number;
  /**
   * The same, counting only messages whose sender and recipient were on other nodes than the one
   * the fault hit: what a user on a surviving node waits for from a peer on a surviving node. The
   * difference from maxWaitMs is time the fault held a client of that node (a frozen node passes
   * nothing on until it wakes up).
   */
  readonly maxWaitOtherNodesMs: number;
  readonly relogins: number;
  /** A few lost/duplicated ids and what the clients saw, for diagnosis. */
  readonly notes: string[];
}

interface MessageRecord {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly sentAt: number;
  accepted: boolean;
  receipts: number;
  late: boolean;
  bounced: string | undefined;
  waitMs: number;
  /** The node holding the sender's session when it sent, and when its request was answered (diagnosis). */
  readonly senderNode: string;
  acceptedAt: number;
  /** When and on which node of the recipient each copy arrived. */
  readonly receivedOn: string[];
}

/** One session of a user: where it lived, when, and how it ended (for the diagnosis of a lost message). */
interface SessionSpan {
  readonly node: string;
  readonly from: number;
  to: number | undefined;
  why: string | undefined;
}

const DOMAIN = 'localhost';
const PASSWORD = 'secret';
const SECRET = 'fault-harness-cluster-secret-0123';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One user of a pair: keeps a session, logs in again whenever it is lost. */
class ChatUser {
  client: ChatClient | undefined;
  relogins = 0;
  /** Whether a session of this user was ever lost (its receipts do not count for maxWaitMs). */
  everLost = false;
  /** Every session this user had, in order. */
  readonly sessions: SessionSpan[] = [];
  private stopped = false;
  private loggingIn: Promise<void> | undefined;
  private generation = 0;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly onStanza: (user: ChatUser, stanza: Element) => void,
    private readonly onAccepted: (ids: readonly string[]) => void,
    private readonly log: (line: string) => void,
  ) {}

  get online(): boolean {
    return this.client?.active === true;
  }

  /** Logs in (again), retrying until it works or the run stops. */
  connect(): Promise<void> {
    this.loggingIn ??= (async () => {
      while (!this.stopped) {
        const generation = ++this.generation;
        const client = new ChatClient(this.url, {
          accepted: (ids) => this.onAccepted(ids),
          stanza: (stanza) => this.onStanza(this, stanza),
          lost: (why) => {
            if (generation !== this.generation || this.stopped) return;
            this.everLost = true;
            const span = this.sessions[this.sessions.length - 1];
            if (span && span.to === undefined) Object.assign(span, { to: Date.now(), why });
            this.log(`${this.name} lost its session on ${client.node}: ${why}`);
            this.client = undefined;
            void sleep(200 + Math.random() * 300).then(() => this.connect());
          },
        });
        try {
          await client.login(this.name, DOMAIN, PASSWORD, 'fault');
          this.client = client;
          this.sessions.push({ node: client.node, from: Date.now(), to: undefined, why: undefined });
          return;
        } catch (err) {
          client.destroy();
          this.log(`${this.name} login failed: ${(err as Error).message.slice(0, 160)}`);
          await sleep(300 + Math.random() * 300);
        }
      }
    })().finally(() => {
      this.loggingIn = undefined;
    });
    this.relogins++;
    return this.loggingIn;
  }

  stop(): void {
    this.stopped = true;
    this.client?.destroy();
  }
}

interface Cluster {
  readonly dir: string;
  readonly redis: TestRedis;
  readonly nodes: ClusterNodeProcess[];
  readonly nginx: NginxLoadBalancer;
}

async function startCluster(options: FaultRunOptions, users: string[]): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bosh-faults-'));
  const redis = await TestRedis.start({ aofDir: join(dir, 'redis') });
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const nodes = await Promise.all(
    ports.map((port, i) =>
      ClusterNodeProcess.start(
        {
          id: `node-${String.fromCharCode(97 + i)}`,
          port,
          redisUrl: redis.url,
          secret: SECRET,
          users: users.map((u) => `${u}:${PASSWORD}`).join(','),
          logDir: dir,
          heartbeatMs: options.heartbeatMs,
          nodeTtlMs: options.nodeTtlMs,
          extraEnv: { MUC_ENABLED: 'false', ...options.nodeEnv },
        },
        60_000,
      ),
    ),
  );
  let nginx: NginxLoadBalancer | undefined;
  try {
    nginx = await NginxLoadBalancer.start({
      dir: join(dir, 'nginx'),
      port: await freePort(),
      upstreamPorts: ports,
      boshMaxWaitSeconds: 60,
      maxFails: 1,
      failTimeoutSeconds: 3,
    });
    const health = await rawRequest(`${nginx.url}/healthz`, 'GET');
    if (health.status !== 200) throw new Error(`GET /healthz through nginx answered ${health.status}`);
    return { dir, redis, nodes, nginx };
  } catch (err) {
    // Nothing started here outlives a failed start (nginx missing, say): the nodes and Redis go too.
    await nginx?.stop();
    for (const node of nodes) await node.kill();
    await redis.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function stopCluster(cluster: Cluster): Promise<void> {
  await cluster.nginx.stop();
  for (const node of cluster.nodes) {
    node.process.signalGroup('SIGCONT');
    await node.kill();
  }
  await cluster.redis.stop('SIGKILL');
  if (!process.env.FAULT_KEEP_LOGS) rmSync(cluster.dir, { recursive: true, force: true });
}

/** Injects the fault; returns a note saying what was done, and the node it hit (none for Redis). */
async function inject(fault: Fault, cluster: Cluster, users: ChatUser[], options: FaultRunOptions): Promise<{ note: string; node?: string }> {
  const perNode = new Map<string, number>();
  for (const user of users) if (user.client) perNode.set(user.client.node, (perNode.get(user.client.node) ?? 0) + 1);
  const busiest = [...perNode.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'node-a';
  const target = cluster.nodes.find((n) => n.id === busiest) ?? cluster.nodes[0];
  if (!target) throw new Error('no node to fault');
  const spread = [...perNode.entries()].map(([n, c]) => `${n}:${c}`).join(' ');
  switch (fault) {
    case 'none':
      return { note: `sessions ${spread}` };
    case 'sigterm':
      target.process.signalGroup('SIGTERM');
      return { note: `SIGTERM to ${target.id} (sessions ${spread})`, node: target.id };
    case 'sigkill':
      target.process.signalGroup('SIGKILL');
      return { note: `SIGKILL to ${target.id} (sessions ${spread})`, node: target.id };
    case 'redis-restart':
      // An operator's restart: a clean stop, down for a while, started again on the same data.
      await cluster.redis.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, options.redisDownMs));
      await cluster.redis.start();
      return { note: `redis restarted, down ${options.redisDownMs} ms (sessions ${spread})` };
    case 'sigstop': {
      target.process.signalGroup('SIGSTOP');
      const frozenMs = options.nodeTtlMs * 2;
      await sleep(frozenMs);
      target.process.signalGroup('SIGCONT');
      return { note: `SIGSTOP to ${target.id} for ${frozenMs} ms, then SIGCONT (sessions ${spread})`, node: target.id };
    }
  }
}

/** Runs one case end to end and accounts for every message. */
export async function runFaultCase(fault: Fault, options: FaultRunOptions = DEFAULT_RUN): Promise<FaultRunResult> {
  const log = options.log ?? (() => undefined);
  const names = Array.from({ length: options.pairs }, (_, i) => [`fa${i}`, `fb${i}`] as const);
  const cluster = await startCluster(
    options,
    names.flatMap((pair) => [...pair]),
  );
  const messages = new Map<string, MessageRecord>();
  const notes: string[] = [];
  let faulted: string | undefined;
  let started = Date.now();
  const onAccepted = (ids: readonly string[]): void => {
    for (const id of ids) {
      const record = messages.get(id);
      if (record && !record.accepted) Object.assign(record, { accepted: true, acceptedAt: Date.now() });
    }
  };
  const onStanza = (user: ChatUser, stanza: Element): void => {
    if (stanza.name !== 'message') return;
    const record = messages.get(String(stanza.attrs.id ?? ''));
    if (!record) return;
    if (stanza.attrs.type === 'error') {
      if (record.from === user.name)
        record.bounced ??=
          stanza
            .getChild('error')
            ?.children.find((c) => typeof c !== 'string')
            ?.toString() ?? 'error';
      return;
    }
    if (record.to !== user.name) return;
    record.receipts++;
    record.accepted = true;
    record.receivedOn.push(`${user.client?.node ?? '?'}@${Date.now() - started}`);
    const delayed = stanza.getChild('delay', 'urn:xmpp:delay') !== undefined;
    const waitMs = Date.now() - record.sentAt;
    if (record.receipts === 1 && (delayed || waitMs > 2000)) record.late = true;
    if (record.receipts === 1 && !delayed && !user.everLost) record.waitMs = waitMs;
  };
  const users = names.flatMap(([a, b]) => [
    new ChatUser(a, cluster.nginx.boshUrl, onStanza, onAccepted, log),
    new ChatUser(b, cluster.nginx.boshUrl, onStanza, onAccepted, log),
  ]);
  const timers: NodeJS.Timeout[] = [];
  try {
    // Logins a few at a time: 60 PLAIN logins at once are a burst no real deployment sees at one instant.
    for (let i = 0; i < users.length; i += 10) await Promise.all(users.slice(i, i + 10).map((u) => u.connect()));
    for (const user of users) user.relogins = 0;
    log(`${users.length} users online; chatting for ${options.seconds} s, fault '${fault}' at ${options.faultAtSeconds} s`);

    started = Date.now();
    log(`chat starts at ${new Date(started).toISOString()} (${started}): times below are ms from here, node logs are epoch ms`);
    const intervalMs = 1000 / options.ratePerPair;
    let counter = 0;
    names.forEach(([a, b], pair) => {
      const [ua, ub] = [users[pair * 2] as ChatUser, users[pair * 2 + 1] as ChatUser];
      let turn = 0;
      // Pairs start spread over one interval so the load is even; each tick is due at a fixed time (no drift).
      const offset = (pair * intervalMs) / options.pairs;
      const tick = (): void => {
        if (Date.now() - started >= options.seconds * 1000) return;
        const [from, to, sender] = turn++ % 2 === 0 ? [a, b, ua] : [b, a, ub];
        const client = sender.client;
        if (client?.active) {
          const id = `${from}-${counter++}`;
          messages.set(id, {
            id,
            from,
            to,
            sentAt: Date.now(),
            accepted: false,
            receipts: 0,
            late: false,
            bounced: undefined,
            waitMs: 0,
            senderNode: client.node,
            acceptedAt: 0,
            receivedOn: [],
          });
          client.sendChat(`${to}@${DOMAIN}`, id, id);
        }
        timers.push(setTimeout(tick, Math.max(0, started + offset + turn * intervalMs - Date.now())));
      };
      timers.push(setTimeout(tick, offset));
    });

    await sleep(options.faultAtSeconds * 1000);
    const injected = await inject(fault, cluster, users, options);
    faulted = injected.node;
    log(injected.note);
    notes.push(injected.note);
    await sleep(Math.max(0, options.seconds * 1000 - (Date.now() - started)));

    // Everyone back online (offline messages come with initial presence), then quiet.
    const settleDeadline = Date.now() + 30_000;
    while (Date.now() < settleDeadline && users.some((u) => !u.online || (u.client?.stanzaRequestsOut ?? 0) > 0)) await sleep(200);
    let last = -1;
    let total = 0;
    const quietDeadline = Date.now() + 30_000;
    while (Date.now() < quietDeadline) {
      total = [...messages.values()].reduce((sum, m) => sum + m.receipts + (m.bounced ? 1 : 0), 0);
      if (total === last) break;
      last = total;
      await sleep(2_000);
    }
    const offline = users.filter((u) => !u.online).map((u) => u.name);
    if (offline.length > 0) notes.push(`not online at the end: ${offline.join(', ')}`);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    for (const user of users) user.stop();
    await stopCluster(cluster);
  }

  const all = [...messages.values()];
  const accepted = all.filter((m) => m.accepted);
  const delivered = accepted.filter((m) => m.receipts > 0);
  const bounced = accepted.filter((m) => m.receipts === 0 && m.bounced !== undefined);
  const lost = accepted.filter((m) => m.receipts === 0 && m.bounced === undefined);
  const twice = accepted.filter((m) => m.receipts > 1);
  const unconfirmed = all.filter((m) => !m.accepted);
  if (lost.length > 0)
    notes.push(
      `lost e.g. ${lost
        .slice(0, 5)
        .map((m) => `${m.id}→${m.to}`)
        .join(' ')}`,
    );
  // Per-message diagnosis (FAULT_VERBOSE=1): times in ms from the start of the chat.
  const byName = new Map(users.map((u) => [u.name, u]));
  const spans = (name: string): string =>
    (byName.get(name)?.sessions ?? []).map((s) => `${s.node}[${s.from - started}..${s.to === undefined ? '' : `${s.to - started} ${s.why ?? ''}`}]`).join(' ');
  for (const m of [...lost, ...twice].slice(0, 10)) {
    log(
      `${m.receipts === 0 ? 'LOST' : 'TWICE'} ${m.id} ${m.from}@${m.senderNode} sent ${m.sentAt - started} accepted ${m.acceptedAt === 0 ? '-' : m.acceptedAt - started}` +
        ` received ${m.receivedOn.join(',') || '-'}; ${m.to}: ${spans(m.to)}; ${m.from}: ${spans(m.from)}`,
    );
  }
  const slowest = [...delivered].sort((x, y) => y.waitMs - x.waitMs).slice(0, 3);
  for (const m of slowest) log(`SLOW ${m.id} ${m.from}@${m.senderNode} sent ${m.sentAt - started} waited ${m.waitMs} received ${m.receivedOn.join(',')}`);
  if (twice.length > 0)
    notes.push(
      `twice e.g. ${twice
        .slice(0, 5)
        .map((m) => m.id)
        .join(' ')}`,
    );
  if (bounced.length > 0)
    notes.push(
      `bounced e.g. ${bounced
        .slice(0, 3)
        .map((m) => `${m.id}: ${m.bounced ?? ''}`)
        .join(' ')}`,
    );
  return {
    fault,
    sent: all.length,
    accepted: accepted.length,
    delivered: delivered.length,
    deliveredLate: delivered.filter((m) => m.late).length,
    bounced: bounced.length,
    lost: lost.length,
    twice: twice.length,
    unconfirmed: unconfirmed.length,
    maxWaitMs: Math.max(0, ...delivered.map((m) => m.waitMs)),
    maxWaitOtherNodesMs: Math.max(
      0,
      ...delivered.filter((m) => m.senderNode !== faulted && m.receivedOn.every((at) => !at.startsWith(`${faulted}@`))).map((m) => m.waitMs),
    ),
    relogins: users.reduce((sum, u) => sum + u.relogins, 0),
    notes,
  };
}

export function formatTable(results: readonly FaultRunResult[]): string {
  const header =
    '| fault | sent | accepted | delivered (late) | bounced | lost | twice | unconfirmed | longest wait, surviving session | the same, both ends off the faulted node | re-logins |';
  const rule = '|---|---|---|---|---|---|---|---|---|---|---|';
  const rows = results.map(
    (r) =>
      `| ${FAULT_DESCRIPTIONS[r.fault]} | ${r.sent} | ${r.accepted} | ${r.delivered} (${r.deliveredLate}) | ${r.bounced} | ${r.lost} | ${r.twice} | ${r.unconfirmed} | ${(r.maxWaitMs / 1000).toFixed(2)} s | ${(r.maxWaitOtherNodesMs / 1000).toFixed(2)} s | ${r.relogins} |`,
  );
  return [header, rule, ...rows].join('\n');
}
