// Bench settings: defaults for the full and the quick run, overridable by flags or BENCH_* env vars.
import type { FifthExchange } from './bosh';

export interface BenchConfig {
  quick: boolean;
  phases: Set<'login' | 'memory' | 'chat' | 'hop' | 'cycles' | 'failover' | 'api' | 'room' | 'mam' | 'webhooks'>;
  workers: number;
  /** lines in the generated USERS_FILE */
  users: number;
  serverEntry: string;
  build: boolean;
  writeDocs: boolean;
  /** webhooks phase: how long the receiver is down under load (the figure: 60 s) */
  webhooksOutageMs: number;
  profile: boolean;
  /** pin the server to CPU 0 and the generator to CPU 1 with taskset */
  pin: boolean;
  fifth: FifthExchange;
  domain: string;
  path: string;

  loginAccounts: number;
  loginConcurrency: number;
  loginMaxMs: number;

  memLevels: number[];
  memConcurrency: number;
  memSettleMs: number;

  chatPairs: number;
  chatBaseRate: number;
  chatBaseMs: number;
  chatRates: number[];
  chatStepMs: number;
  chatDrainMs: number;
  chatRefine: number;
  chatP99LimitMs: number;
  chatBodyBytes: number;
  /** stop the step-up search when the whole chat phase has run this long */
  chatBudgetMs: number;

  /** memory per session cycle: create+terminate cycles measured, warm-up cycles before, concurrent cycles */
  cycles: number;
  cyclesWarmup: number;
  cyclesConcurrency: number;
  /** idle time before each forced-GC reading (long enough for V8's memory reducer to shrink the young generation) */
  cyclesSettleMs: number;
  /** cluster failover: how long redis-server stays down before its restart */
  failoverRedisDownMs: number;

  /** room phase (XEP-0045, single node and cluster): occupants, room messages per second, seconds */
  roomOccupants: number;
  roomRate: number;
  roomSeconds: number;
  /** mam phase (XEP-0313, single node): archive size, and pages timed per kind of query */
  mamRows: number;
  mamPages: number;

  jsonOut: string;
  /** before each phase, wait up to this long for the machine to be quiet (other processes < 15% busy) */
  idleWaitMs: number;
  /** scheduling priority (nice value) for the server and the generator; negative needs root */
  nice: number;
  /** only re-render the table and docs/performance.md from this results JSON */
  render: string;
  /** the run plans to end within this many ms (waits, retries and the step-up search shrink to fit) */
  deadlineMs: number;
  /** extra node flags for the server child / the generator workers (space separated) */
  serverNodeArgs: string[];
  /** echo the server's stdout/stderr */
  serverLog: boolean;
  /** extra env for the server, from --server-env=K=V,K=V */
  serverEnv: Record<string, string>;
  workerNodeArgs: string[];

  /** run the single-node suite */
  single: boolean;
  /** run the cluster suite with this many nodes (0 = no cluster suite) */
  cluster: number;
  /** nginx worker processes in front of the cluster */
  clusterNginxWorkers: number;
  /** nginx `keepalive` (idle connections to the nodes kept per worker) */
  clusterKeepalive: number;
  clusterHeartbeatMs: number;
  clusterNodeTtlMs: number;
  /** forwarding-hop measurement: pings per second, length, sessions per node */
  hopRate: number;
  hopMs: number;
  hopPerNode: number;
}

const HELP = `usage: npm run bench -- [options]

  --quick                 short run (< 1 min): fewer accounts/sessions, short chat steps
  --phases=a,b            subset of login,memory,chat,hop,cycles,failover,api,room,mam,webhooks (default all; hop is the cluster's forwarding hop,
                          failover its node-kill and Redis-restart timings (--cluster --phases=failover alone: about a minute);
                          cycles, memory per session cycle, is single-node only and not in --quick unless named;
                          --phases=cycles alone runs just it and writes only its section of docs/performance.md;
                          api, the business API's control fan-out to 1,000 users and 100 pushes/s, likewise;
                          webhooks, chat at 2,000/s with and without a sink and a receiver outage, likewise)
  --webhooks-outage-s=N   webhooks phase: seconds the receiver is down under 500 events/s (default 60; shorter for quick runs)
  --room-occupants=N      room phase (one room of the MUC service, XEP-0045; single node, and on the cluster in the
                          cluster suite, about 1 minute each): occupants, each a BOSH session (default 200)
  --room-rate=N           room messages per second from the occupants in turn (default 10)
  --room-seconds=N        how long they are sent (default 20, quick 5); writes the "Rooms" sections of docs/performance.md
  --mam-rows=N            mam phase (single node, about 1 minute): one XEP-0313 page of 50 from an archive of N messages
                          (default 1000000, quick 100000) generated in SQLite through the store's own tables
  --mam-pages=N           pages timed per kind of query (default 1000)
  --workers=N             load-generator processes (default 1)
  --users=N               lines in the generated USERS_FILE (default 100000)
  --login-accounts=N      accounts logged in per pass (cold pass, then warm pass)
  --login-concurrency=N   concurrent logging-in clients (all workers together)
  --mem-levels=A,B        idle-session counts to measure memory at (default 1000,10000)
  --chat-pairs=N          sender sessions and as many receiver sessions
  --chat-rates=A,B,...    step-up rates in msg/s after the 500 msg/s baseline
  --chat-step-ms=N        length of one step
  --cycles=N              session create+terminate cycles measured (default 5000), after --cycles-warmup=N (1000)
  --cycles-settle-ms=N    idle time before each memory reading of the cycles phase (default 15000)
  --cycles-concurrency=N  cycles in flight at once (default 16)
  --fifth=both|session|presence  fifth login exchange (default both: session iq + presence in one body)
  --server=PATH           server entry (default dist/main.js)
  --no-build              do not run npm run build when dist/ is stale
  --write-docs            write docs/performance.md (default on for the full run, off for --quick)
  --no-write-docs
  --profile               run the server with --cpu-prof and print its hottest functions
  --pin                   taskset: server on CPU 0, generator on CPU 1
  --json=PATH             results as JSON (default .tmp/bench-results.json)
  --render=PATH           no run: print the table from a results JSON and write docs/performance.md from it
  --server-node-args="…"  extra node flags for the server (e.g. "--trace-gc"); --worker-node-args likewise
  --server-env=K=V,K=V    extra environment for the server (after the bench's own settings)
  --server-log            echo the server's output (e.g. with --server-node-args=--trace-gc)
  --nice=N                run the server and the generator at this nice value (e.g. -10, as root) so that
                          unrelated processes on the machine disturb the figures less
  --deadline-ms=N         plan to finish within N ms (default 540000, quick 55000, --cluster --quick 110000); waits, retries and the
                          chat step-up search shrink to fit
  --idle-wait-ms=N        before each phase wait up to N ms for the machine to be quiet (default 30000, quick 3000)

Cluster (a redis-server, N nodes and nginx of the bench's own, all on 127.0.0.1):
  The full run does the single node, then the cluster suite with 3 nodes (about 3.5 minutes each).
  --cluster[=N]           only the cluster suite: N nodes (default 3) behind nginx (round-robin, no stickiness),
                          one Redis; phases login,memory,chat,hop; writes only the "Cluster" section of
                          docs/performance.md (unless --quick) and .tmp/bench-cluster-results.json
  --no-cluster            only the single node (the default with --quick)
  --cluster-nginx-workers=N  nginx worker processes (default 2: 10,000 held requests are 20,000 connections)
  --cluster-keepalive=N   nginx upstream keepalive connections per worker (default 32, as in the e2e test)
  --cluster-heartbeat-ms=N, --cluster-node-ttl-ms=N   HEARTBEAT_MS / NODE_TTL_MS of the nodes (1000 / 5000)
  --hop-rate=N            forwarding-hop phase: pings per second (default 300)
  --hop-ms=N              its length (default 15000, quick 3000)
  --hop-per-node=N        its sessions on each node (default 30)
  --failover-redis-down-ms=N  failover phase: how long redis-server stays down (default 2000)

Every option can also be given as an env var: --chat-pairs=50 is BENCH_CHAT_PAIRS=50, --quick is BENCH_QUICK=1.
`;

function list(s: string): number[] {
  return s
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isFinite(x) && x > 0);
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): BenchConfig {
  const opts = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('BENCH_') && v !== undefined) opts.set(k.slice(6).toLowerCase().replace(/_/g, '-'), v);
  }
  for (const a of argv) {
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${HELP}`);
    const eq = a.indexOf('=');
    if (eq > 0) opts.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a.startsWith('--no-')) opts.set(a.slice(5), '0');
    else opts.set(a.slice(2), '1');
  }
  const known = new Set([
    'quick',
    'phases',
    'workers',
    'users',
    'server',
    'build',
    'write-docs',
    'profile',
    'pin',
    'fifth',
    'json',
    'login-accounts',
    'login-concurrency',
    'login-max-ms',
    'mem-levels',
    'mem-concurrency',
    'mem-settle-ms',
    'chat-pairs',
    'chat-base-rate',
    'chat-base-ms',
    'chat-rates',
    'chat-step-ms',
    'chat-drain-ms',
    'chat-refine',
    'chat-p99-limit-ms',
    'chat-body-bytes',
    'chat-budget-ms',
    'idle-wait-ms',
    'cycles',
    'cycles-warmup',
    'cycles-concurrency',
    'cycles-settle-ms',
    'failover-redis-down-ms',
    'webhooks-outage-s',
    'room-occupants',
    'room-rate',
    'room-seconds',
    'mam-rows',
    'mam-pages',
    'server-node-args',
    'worker-node-args',
    'server-log',
    'deadline-ms',
    'server-env',
    'nice',
    'render',
    'cluster',
    'cluster-nginx-workers',
    'cluster-keepalive',
    'cluster-heartbeat-ms',
    'cluster-node-ttl-ms',
    'hop-rate',
    'hop-ms',
    'hop-per-node',
  ]);
  for (const k of opts.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}\n${HELP}`);
  const flag = (k: string, d: boolean): boolean => (opts.has(k) ? !['0', 'false', 'no', ''].includes(opts.get(k) as string) : d);
  const num = (k: string, d: number): number => {
    const v = opts.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} needs a number`);
    return n;
  };
  const quick = flag('quick', false);
  // suites: the full run does both (single node, then a 3-node cluster); --quick only the single node;
  // --cluster[=N] only the cluster (3 or N nodes); --no-cluster only the single node
  const clusterText = opts.get('cluster');
  const noCluster = clusterText !== undefined && ['0', 'false', 'no', ''].includes(clusterText);
  const clusterOnly = clusterText !== undefined && !noCluster;
  const phases = new Set(
    (opts.get('phases') ?? (quick ? 'login,memory,chat,hop' : 'login,memory,chat,hop,cycles,failover,api,room,mam,webhooks'))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ) as BenchConfig['phases'];
  for (const p of phases)
    if (!['login', 'memory', 'chat', 'hop', 'cycles', 'failover', 'api', 'room', 'mam', 'webhooks'].includes(p)) throw new Error(`unknown phase ${p}`);
  // only single-node phases named (e.g. --phases=cycles): no cluster suite unless asked for
  const singleOnly = opts.has('phases') && ![...phases].some((p) => p !== 'cycles' && p !== 'api' && p !== 'mam' && p !== 'webhooks');
  if (singleOnly && clusterOnly) throw new Error('the cycles phase runs on a single node only (drop --cluster)');
  const cluster = clusterOnly ? (clusterText === '1' || clusterText === 'true' ? 3 : Number(clusterText)) : noCluster || quick || singleOnly ? 0 : 3;
  if (!Number.isInteger(cluster) || cluster < 0 || cluster === 1 || cluster > 8) throw new Error('--cluster=N needs N from 2 to 8 (--cluster alone is 3)');
  const single = !clusterOnly;
  if (phases.has('hop') && !cluster && opts.has('phases')) throw new Error('the hop phase needs the cluster suite');
  if (phases.has('failover') && cluster < 3 && opts.has('phases'))
    throw new Error('the failover phase needs the cluster suite with at least 3 nodes (--cluster)');
  const fifth = (opts.get('fifth') ?? 'both') as FifthExchange;
  if (!['both', 'session', 'presence'].includes(fifth)) throw new Error('--fifth must be both, session or presence');
  return {
    quick,
    phases,
    workers: Math.max(1, Math.floor(num('workers', 1))),
    users: Math.floor(num('users', 100_000)),
    serverEntry: opts.get('server') ?? 'dist/main.js',
    build: flag('build', true),
    writeDocs: flag('write-docs', !quick),
    profile: flag('profile', false),
    pin: flag('pin', false),
    fifth,
    domain: 'localhost',
    path: '/http-bind',
    loginAccounts: Math.floor(num('login-accounts', quick ? 2_000 : 10_000)),
    loginConcurrency: Math.floor(num('login-concurrency', 256)),
    loginMaxMs: num('login-max-ms', quick ? 15_000 : 30_000),
    memLevels: list(opts.get('mem-levels') ?? (quick ? '1000,2000' : '1000,10000')),
    memConcurrency: Math.floor(num('mem-concurrency', 256)),
    memSettleMs: num('mem-settle-ms', quick ? 1_000 : 3_000),
    chatPairs: Math.floor(num('chat-pairs', quick ? 50 : 100)),
    chatBaseRate: num('chat-base-rate', 500),
    chatBaseMs: num('chat-base-ms', quick ? 3_000 : 10_000),
    chatRates: list(opts.get('chat-rates') ?? (quick ? '2000,4000,8000' : '1000,2000,3000,4000,5000,6000,8000,10000,12000,16000,20000')),
    chatStepMs: num('chat-step-ms', quick ? 2_000 : 8_000),
    chatDrainMs: num('chat-drain-ms', quick ? 1_500 : 3_000),
    chatRefine: Math.floor(num('chat-refine', quick ? 0 : 2)),
    chatP99LimitMs: num('chat-p99-limit-ms', 100),
    chatBodyBytes: Math.floor(num('chat-body-bytes', 64)),
    chatBudgetMs: num('chat-budget-ms', quick ? 25_000 : 240_000),
    cycles: Math.max(1, Math.floor(num('cycles', 5_000))),
    cyclesWarmup: Math.floor(num('cycles-warmup', 1_000)),
    cyclesConcurrency: Math.max(1, Math.floor(num('cycles-concurrency', 16))),
    cyclesSettleMs: num('cycles-settle-ms', 15_000),
    failoverRedisDownMs: num('failover-redis-down-ms', 2_000),
    webhooksOutageMs: num('webhooks-outage-s', 60) * 1000,
    roomOccupants: Math.max(2, Math.floor(num('room-occupants', 200))),
    roomRate: Math.max(1, num('room-rate', 10)),
    roomSeconds: Math.max(1, num('room-seconds', quick ? 5 : 20)),
    mamRows: Math.max(100_000, Math.floor(num('mam-rows', quick ? 100_000 : 1_000_000))),
    mamPages: Math.max(100, Math.floor(num('mam-pages', 1_000))),
    jsonOut: opts.get('json') ?? (single ? '.tmp/bench-results.json' : '.tmp/bench-cluster-results.json'),
    idleWaitMs: num('idle-wait-ms', quick ? 3_000 : 30_000),
    nice: Number(opts.get('nice') ?? 0) || 0,
    render: opts.get('render') ?? '',
    deadlineMs: num('deadline-ms', quick ? (single ? 55_000 : 110_000) : 540_000),
    serverLog: flag('server-log', false),
    serverEnv: Object.fromEntries(
      (opts.get('server-env') ?? '')
        .split(',')
        .map((kv) => kv.trim())
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
    serverNodeArgs: (opts.get('server-node-args') ?? '').split(' ').filter(Boolean),
    workerNodeArgs: (opts.get('worker-node-args') ?? '').split(' ').filter(Boolean),
    single,
    cluster,
    clusterNginxWorkers: Math.max(1, Math.floor(num('cluster-nginx-workers', 2))),
    clusterKeepalive: Math.max(1, Math.floor(num('cluster-keepalive', 32))),
    clusterHeartbeatMs: num('cluster-heartbeat-ms', 1_000),
    clusterNodeTtlMs: num('cluster-node-ttl-ms', 5_000),
    hopRate: Math.max(1, num('hop-rate', 300)),
    hopMs: num('hop-ms', quick ? 3_000 : 15_000),
    hopPerNode: Math.max(1, Math.floor(num('hop-per-node', 30))),
  };
}
