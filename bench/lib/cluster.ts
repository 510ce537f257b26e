// Cluster mode of the bench (`--cluster[=N]`): a redis-server of the bench's own, N gateway nodes in cluster
// mode (REDIS_URL set) and an nginx in front of them, round-robin with no stickiness. Everything listens on
// 127.0.0.1 on free ports; every start and stop is bounded in time, and killNow() is the synchronous last
// resort for the bench's 'exit' handler.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import Redis from 'ioredis';
import { countSockets, readRssKb } from './cpu';
import { freePort, httpGet, ServerProcess, type MemSample, type ServerOptions } from './server';

export const NGINX_BINARY = '/usr/sbin/nginx';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.setTimeout(500);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

function renice(pid: number, nice: number | undefined): void {
  if (!nice || !pid) return;
  try {
    setPriority(pid, nice);
  } catch {
    /* not permitted: the process keeps its priority */
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Children of `ppid`, from /proc/PID/stat (field 4). */
function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === ppid) out.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Waits (bounded) for a child process to exit; SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await Promise.race([gone, sleep(graceMs + 2_000)]);
  clearTimeout(t);
}

// ---------------------------------------------------------------- redis-server

/** `INFO commandstats` as command → calls and µs. */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export class RedisServer {
  child: ChildProcess | undefined;
  pid = 0;
  port = 0;
  private stats: Redis | undefined;
  private tail: string[] = [];

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  lastOutput(): string {
    return this.tail.join('\n');
  }

  /** `port`: the same port again (a restart); by default a free one. */
  async start(dir: string, nice: number | undefined, timeoutMs = 10_000, port?: number): Promise<void> {
    this.port = port ?? (await freePort());
    // no persistence at all: the bench's Redis starts empty and writes nothing to disk
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pid = child.pid ?? 0;
    const keep = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.tail.push(line);
      if (this.tail.length > 30) this.tail.splice(0, this.tail.length - 30);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    renice(this.pid, nice);
    const until = performance.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}):\n${this.lastOutput()}`);
      if (performance.now() > until) throw new Error(`redis-server did not accept connections on ${this.port} within ${timeoutMs} ms:\n${this.lastOutput()}`);
      if (await portAccepts(this.port)) break;
      await sleep(50);
    }
    this.stats = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    this.stats.on('error', () => undefined);
    await this.stats.connect();
    const pong: string = await this.stats.ping();
    if (pong !== 'PONG') throw new Error(`redis-server answered ${pong} to PING`);
  }

  private client(): Redis {
    if (!this.stats) throw new Error('redis-server not started');
    return this.stats;
  }

  /** One INFO section as key → value. */
  async info(section: string): Promise<Record<string, string>> {
    const text = await this.client().info(section);
    const out: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  async resetStats(): Promise<void> {
    await this.client().config('RESETSTAT');
  }

  async commandStats(): Promise<CommandStats> {
    const info = await this.info('commandstats');
    const out: CommandStats = {};
    for (const [k, v] of Object.entries(info)) {
      if (!k.startsWith('cmdstat_')) continue;
      const calls = /calls=(\d+)/.exec(v);
      const usec = /usec=(\d+)/.exec(v);
      out[k.slice(8)] = { calls: Number(calls?.[1] ?? 0), usec: Number(usec?.[1] ?? 0) };
    }
    return out;
  }

  async usedMemory(): Promise<number> {
    return Number((await this.info('memory')).used_memory ?? NaN);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client().exists(key)) === 1;
  }

  async stop(): Promise<void> {
    this.stats?.disconnect();
    this.stats = undefined;
    await stopChild(this.child, 'SIGTERM', 3_000);
  }

  killNow(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) killPid(this.pid, 'SIGKILL');
  }
}

// ---------------------------------------------------------------- nginx

export interface NginxOptions {
  /** directory for nginx.conf, pid, logs and temp files (created if missing) */
  dir: string;
  port: number;
  upstreamPorts: number[];
  /** highest BOSH wait a node grants (s): the proxy read timeout must be above it */
  maxWaitSeconds: number;
  workers: number;
  /** idle keep-alive connections to the nodes kept per worker (nginx `keepalive`) */
  keepalive: number;
  /** open-files limit each worker may use (cannot exceed the hard limit the bench runs under) */
  nofile: number;
}

/**
 * nginx.conf for the bench: the load-balancing and proxy settings of spec/e2e/support/nginx.ts (round-robin,
 * no ip_hash/sticky, keep-alive to the nodes, proxy_buffering off, proxy_next_upstream off, read timeout above
 * `wait`), with what a load test needs on top: no access log, several workers (each one's connections must
 * fit its open-files limit: a held request is two connections in nginx), SO_REUSEPORT so the kernel spreads
 * connections evenly over the workers, keepalive_requests raised so nginx does not close busy keep-alive
 * connections every 1,000 requests, and an X-Bosh-Upstream response header naming the node that answered.
 */
export function nginxBenchConfig(o: NginxOptions): string {
  const servers = o.upstreamPorts.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=3s;`).join('\n');
  const connections = Math.max(1024, o.nofile - 64);
  return `# Written by bench/lib/cluster.ts for one bench run.
worker_processes ${o.workers};
worker_rlimit_nofile ${o.nofile};
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log warn;

events {
    # a held BOSH request is two connections here: the client's and the one to its node
    worker_connections ${connections};
}

http {
    access_log off;
    client_body_temp_path ${o.dir}/client_body_temp;
    proxy_temp_path ${o.dir}/proxy_temp;
    fastcgi_temp_path ${o.dir}/fastcgi_temp;
    uwsgi_temp_path ${o.dir}/uwsgi_temp;
    scgi_temp_path ${o.dir}/scgi_temp;

    upstream bosh_nodes {
        # round-robin (the default): no ip_hash, hash or sticky cookie; the nodes forward among themselves
${servers}
        keepalive ${o.keepalive};
        keepalive_timeout 60s;
        keepalive_requests 1000000;
    }

    server {
        listen 127.0.0.1:${o.port}${o.workers > 1 ? ' reuseport' : ''};
        client_body_buffer_size 64k;
        client_max_body_size 1m;
        keepalive_timeout 75s;
        keepalive_requests 1000000;

        location / {
            proxy_pass http://bosh_nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Bosh-Forwarded "";
            proxy_buffering off;
            proxy_read_timeout ${o.maxWaitSeconds + 30}s;
            proxy_send_timeout ${o.maxWaitSeconds + 30}s;
            proxy_connect_timeout 2s;
            proxy_next_upstream off;
            # which node nginx picked, so that the bench can tell direct requests from forwarded ones
            add_header X-Bosh-Upstream $upstream_addr always;
        }
    }
}
`;
}

function nobody(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const f = line?.split(':');
  return f && f.length >= 4 ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

export class NginxProxy {
  child: ChildProcess | undefined;
  pid = 0;
  workerPids: number[] = [];
  private out: string[] = [];

  constructor(readonly opts: NginxOptions) {}

  get origin(): string {
    return `http://127.0.0.1:${this.opts.port}`;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.opts.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** RSS of the master and its workers (KiB). */
  rssKb(): number {
    return [this.pid, ...this.workerPids].reduce((a, p) => a + (pidAlive(p) ? readRssKb(p) : 0), 0);
  }

  async start(nice: number | undefined, timeoutMs = 10_000): Promise<void> {
    const o = this.opts;
    if (!existsSync(NGINX_BINARY)) throw new Error(`${NGINX_BINARY} is missing: the cluster bench needs Debian's nginx (apt-get install -y nginx)`);
    mkdirSync(o.dir, { recursive: true });
    const conf = join(o.dir, 'nginx.conf');
    writeFileSync(conf, nginxBenchConfig(o));
    // As root, run nginx as nobody (nothing privileged in the configuration, no `user` directive needed):
    // the directory is handed over and the directories above it get search permission, nothing more.
    const user = process.getuid?.() === 0 ? nobody() : undefined;
    if (user) {
      chownSync(o.dir, user.uid, user.gid);
      chownSync(conf, user.uid, user.gid);
      chmodSync(o.dir, 0o755);
      for (let up = dirname(o.dir); up !== dirname(up); up = dirname(up)) {
        const st = statSync(up);
        if (st.uid === process.getuid?.() && (st.mode & 0o001) === 0) chmodSync(up, (st.mode & 0o7777) | 0o011);
      }
    }
    const args = ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')];
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' };
    const check = spawnSync(NGINX_BINARY, [...args, '-t'], { env, encoding: 'utf8', timeout: 10_000, ...(user ?? {}) });
    if (check.status !== 0) throw new Error(`nginx -t rejected the configuration (exit ${check.status}):\n${check.stderr}\n${readFileSync(conf, 'utf8')}`);
    const child = spawn(NGINX_BINARY, [...args, '-g', 'daemon off;'], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    this.child = child;
    this.pid = child.pid ?? 0;
    const keep = (d: Buffer): void => {
      this.out.push(d.toString());
      if (this.out.length > 30) this.out.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const until = performance.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited (code ${child.exitCode}):\n${this.out.join('')}\n${this.errorLog()}`);
      if (performance.now() > until) throw new Error(`nginx did not listen on ${o.port} within ${timeoutMs} ms:\n${this.errorLog()}`);
      if (await portAccepts(o.port)) {
        this.workerPids = childPids(this.pid);
        if (this.workerPids.length >= o.workers) break;
      }
      await sleep(50);
    }
    for (const p of [this.pid, ...this.workerPids]) renice(p, nice);
  }

  async stop(): Promise<void> {
    // SIGTERM: nginx's fast shutdown (workers close their connections and exit with the master)
    await stopChild(this.child, 'SIGTERM', 3_000);
    for (const p of this.workerPids) if (pidAlive(p)) killPid(p, 'SIGKILL');
  }

  killNow(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) killPid(this.pid, 'SIGKILL');
    for (const p of this.workerPids) if (pidAlive(p)) killPid(p, 'SIGKILL');
  }
}

// ---------------------------------------------------------------- Prometheus text

/** Prometheus text exposition → series (name{labels}) → value. */
export function parseProm(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (sp < 0) continue;
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** Sum of every series of metric `name` whose labels include all of `labels` (e.g. 'outcome="ok"'). */
export function promSum(m: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [k, v] of m) {
    const brace = k.indexOf('{');
    const n = brace < 0 ? k : k.slice(0, brace);
    if (n !== name) continue;
    if (labels.every((l) => k.includes(l))) sum += v;
  }
  return sum;
}

export interface ForwardStats {
  count: number;
  sumSeconds: number;
  /** cumulative bucket counts: [upper bound in s, count] */
  buckets: [number, number][];
  byOutcome: Record<string, number>;
}

/** cluster_forwards_seconds summed over the nodes, as the difference between two snapshots. */
export function forwardStats(before: Map<string, number>[], after: Map<string, number>[]): ForwardStats {
  const les = new Set<string>();
  for (const m of after) for (const k of m.keys()) if (k.startsWith('cluster_forwards_seconds_bucket{')) les.add(/le="([^"]+)"/.exec(k)?.[1] ?? '');
  const d = (f: (m: Map<string, number>) => number): number => after.reduce((a, m) => a + f(m), 0) - before.reduce((a, m) => a + f(m), 0);
  const buckets: [number, number][] = [...les]
    .filter(Boolean)
    .map(
      (le) =>
        [le === '+Inf' ? Infinity : Number(le), d((m) => promSum(m, 'cluster_forwards_seconds_bucket', 'outcome="ok"', `le="${le}"`))] as [number, number],
    )
    .sort((a, b) => a[0] - b[0]);
  const byOutcome: Record<string, number> = {};
  for (const o of ['ok', 'unknown', 'owner-down', 'failed']) byOutcome[o] = d((m) => promSum(m, 'cluster_forwards_seconds_count', `outcome="${o}"`));
  return {
    count: d((m) => promSum(m, 'cluster_forwards_seconds_count', 'outcome="ok"')),
    sumSeconds: d((m) => promSum(m, 'cluster_forwards_seconds_sum', 'outcome="ok"')),
    buckets,
    byOutcome,
  };
}

/** Percentile from cumulative histogram buckets, linear within the bucket (as Prometheus' histogram_quantile). */
export function bucketQuantile(buckets: [number, number][], q: number): number {
  const total = buckets.length ? (buckets[buckets.length - 1] as [number, number])[1] : 0;
  if (!total) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

// ---------------------------------------------------------------- the whole cluster

export interface ClusterOptions {
  nodes: number;
  /** temp directory for Redis and nginx files (removed by the bench) */
  dir: string;
  heartbeatMs: number;
  nodeTtlMs: number;
  nginxWorkers: number;
  nginxKeepalive: number;
  /** open-files hard limit the bench runs under (nginx workers cannot go above it) */
  nofile: number;
  nice: number | undefined;
  /** options shared by every node (port, name, readiness and cluster env are added here) */
  node: Omit<ServerOptions, 'port' | 'name' | 'readyPath'>;
  /**
   * the cluster's processes are SIGKILLed by a watchdog if the bench itself dies (even by SIGKILL), and in any
   * case after this many seconds
   */
  lifetimeS: number;
}

export interface NodeMem {
  name: string;
  rssKb: number;
  heapUsed: number;
  sockets: number;
  /** BOSH sessions the node holds (bosh_sessions on its /metrics) */
  sessions: number;
}

export interface ClusterMem extends MemSample {
  nodes: NodeMem[];
  redisUsedBytes: number;
  redisRssKb: number;
  nginxRssKb: number;
  nginxSockets: number;
  /** sockets of each nginx worker (each must stay below worker_connections) */
  nginxWorkerSockets: number[];
}

export class Cluster {
  readonly redis = new RedisServer();
  readonly nodes: ServerProcess[] = [];
  nginx: NginxProxy | undefined;
  readonly secret = randomBytes(18).toString('hex');

  constructor(readonly opts: ClusterOptions) {}

  get origin(): string {
    if (!this.nginx) throw new Error('cluster not started');
    return this.nginx.origin;
  }

  nodeOrigins(): string[] {
    return this.nodes.map((n) => n.origin);
  }

  async start(): Promise<void> {
    const o = this.opts;
    mkdirSync(o.dir, { recursive: true });
    await this.redis.start(o.dir, o.nice);
    const ports: number[] = [];
    while (ports.length < o.nodes) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    for (let i = 0; i < o.nodes; i++) {
      const id = `bench-node${i + 1}`;
      this.nodes.push(
        new ServerProcess({
          ...o.node,
          port: ports[i],
          name: `node${i + 1}`,
          readyPath: '/readyz',
          extraEnv: {
            REDIS_URL: this.redis.url,
            CLUSTER_SECRET: this.secret,
            NODE_ID: id,
            NODE_URL: `http://127.0.0.1:${ports[i]}`,
            HEARTBEAT_MS: String(o.heartbeatMs),
            NODE_TTL_MS: String(o.nodeTtlMs),
            ...o.node.extraEnv,
          },
        }),
      );
    }
    await Promise.all(this.nodes.map((n) => n.start()));
    const nginxPort = await freePort();
    this.nginx = new NginxProxy({
      dir: join(o.dir, 'nginx'),
      port: nginxPort,
      upstreamPorts: ports,
      maxWaitSeconds: o.node.maxWait,
      workers: o.nginxWorkers,
      keepalive: o.nginxKeepalive,
      nofile: o.nofile,
    });
    await this.nginx.start(o.nice);
    this.watchdog();
    // every node must see the others alive before the load starts (forwarding checks the heartbeat)
    const until = performance.now() + 10_000;
    const alive = async (): Promise<boolean> =>
      (await Promise.all(this.nodes.map((_, i) => this.redis.exists(`bosh:node:bench-node${i + 1}:alive`)))).every(Boolean);
    while (!(await alive())) {
      if (performance.now() > until) throw new Error(`not every node's heartbeat is in Redis 10 s after start:\n${this.lastOutput()}`);
      await sleep(100);
    }
  }

  /**
   * A shell loop (bounded: at most `lifetimeS` rounds of one second) that SIGKILLs this cluster's processes when
   * the bench is gone, and exits by itself as soon as they all are.
   */
  private watchdog(): void {
    const pids = [this.redis.pid, ...this.nodes.map((n) => n.pid), this.nginx?.pid ?? 0, ...(this.nginx?.workerPids ?? [])].filter((p) => p > 0);
    const script =
      `pids="${pids.join(' ')}"; i=0; while [ $i -lt ${Math.ceil(this.opts.lifetimeS)} ]; do i=$((i+1)); ` +
      `left=0; for p in $pids; do kill -0 $p 2>/dev/null && left=1; done; [ $left = 0 ] && exit 0; ` +
      `kill -0 ${process.pid} 2>/dev/null || break; sleep 1; done; kill -9 $pids 2>/dev/null; ` +
      // the bench is gone: nobody else removes the cluster's temp directory
      `kill -0 ${process.pid} 2>/dev/null || { sleep 1; rm -rf '${this.opts.dir}'; }; exit 0`;
    const w = spawn('bash', ['-c', script], { stdio: 'ignore' });
    w.unref();
  }

  /** Processes for CPU accounting: the nodes, the nginx workers and Redis. */
  procs(): { name: string; pid: number }[] {
    return [
      ...this.nodes.map((n) => ({ name: n.name, pid: n.pid })),
      ...(this.nginx?.workerPids ?? []).map((pid, i) => ({ name: `nginx${i + 1}`, pid })),
      { name: 'redis', pid: this.redis.pid },
    ];
  }

  async metrics(): Promise<Map<string, number>[]> {
    return Promise.all(
      this.nodes.map(async (n) => {
        const r = await httpGet(`${n.origin}/metrics`, 5_000).catch(() => ({ status: 0, body: '' }));
        return parseProm(r.status === 200 ? r.body : '');
      }),
    );
  }

  /** Forced GC in every node (in parallel), then the nodes' VmRSS summed; Redis and nginx alongside. */
  async settle(): Promise<ClusterMem> {
    const samples = await Promise.all(this.nodes.map((n) => n.settle()));
    const prom = await this.metrics();
    const nodes = samples.map((m, i) => ({
      name: (this.nodes[i] as ServerProcess).name,
      rssKb: m.rssKb,
      heapUsed: m.heapUsed,
      sockets: m.sockets,
      sessions: promSum(prom[i] ?? new Map<string, number>(), 'bosh_sessions'),
    }));
    const sum = (f: (m: MemSample) => number): number => samples.reduce((a, m) => a + f(m), 0);
    const nginxPids = this.nginx ? [this.nginx.pid, ...this.nginx.workerPids] : [];
    return {
      rssKb: sum((m) => m.rssKb),
      heapUsed: sum((m) => m.heapUsed),
      heapTotal: sum((m) => m.heapTotal),
      external: sum((m) => m.external),
      arrayBuffers: sum((m) => m.arrayBuffers),
      fds: sum((m) => m.fds),
      sockets: sum((m) => m.sockets),
      nodes,
      redisUsedBytes: await this.redis.usedMemory().catch(() => NaN),
      redisRssKb: this.redis.pid ? readRssKb(this.redis.pid) : NaN,
      nginxRssKb: this.nginx?.rssKb() ?? NaN,
      nginxSockets: nginxPids.reduce((a, p) => a + (countSockets(p) || 0), 0),
      nginxWorkerSockets: (this.nginx?.workerPids ?? []).map((p) => countSockets(p) || 0),
    };
  }

  /** Event-loop delay since the previous call: the worst node's p99 and max. */
  async loopDelay(): Promise<{ p50: number; p99: number; max: number }> {
    const all = await Promise.all(this.nodes.map((n) => n.loopDelay()));
    const worst = (f: (x: { p50: number; p99: number; max: number }) => number): number => Math.max(...all.map(f).filter(Number.isFinite));
    return { p50: worst((x) => x.p50), p99: worst((x) => x.p99), max: worst((x) => x.max) };
  }

  lastOutput(): string {
    return [
      ...this.nodes.map((n) => `--- ${n.name} ---\n${n.lastOutput()}`),
      `--- redis ---\n${this.redis.lastOutput()}`,
      ...(this.nginx ? [`--- nginx error.log ---\n${this.nginx.errorLog().split('\n').slice(-20).join('\n')}`] : []),
    ].join('\n');
  }

  /**
   * Nodes first (SIGTERM, SIGKILL after `graceMs`: by default longer than the nodes' own SHUTDOWN_GRACE of 10 s,
   * so that a graceful shutdown is not cut short), then nginx, then Redis.
   */
  async stop(graceMs = 12_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(graceMs).catch(() => undefined)));
    await this.nginx?.stop().catch(() => undefined);
    await this.redis.stop().catch(() => undefined);
  }

  killNow(): void {
    for (const n of this.nodes) n.killNow();
    this.nginx?.killNow();
    this.redis.killNow();
  }

  /**
   * Stops redis-server (SIGTERM), keeps it down for `downMs`, starts it again on the same port, empty (the
   * bench's Redis keeps nothing on disk). Resolves with the time it accepted connections again.
   */
  async restartRedis(downMs: number): Promise<number> {
    const port = this.redis.port;
    await this.redis.stop();
    await sleep(downMs);
    await this.redis.start(this.opts.dir, this.opts.nice, 10_000, port);
    const back = performance.now();
    // the new redis-server process is not in the first watchdog's list
    this.watchdog();
    return back;
  }
}
