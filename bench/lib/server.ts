// Starts and watches the gateway under test as a child process (`node dist/main.js`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countFds, countSockets, readRssKb } from './cpu';

export const ULIMIT_WRAPPER =
  // raise the open-files limit as far as allowed, then exec the real command (same pid)
  'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

/** Server settings the bench overrides (names the gateway reads; a server that does not know them ignores them). */
export const BENCH_LIMITS: Record<string, string> = {
  NEW_SESSIONS_PER_ADDRESS: '10000000',
  STANZAS_PER_SECOND: '100000',
  STANZA_BURST: '1000000',
};

/** GET over loopback HTTP/1.1 without keep-alive; bounded by `timeoutMs`. */
export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/main.js is missing or older than a file under src/. */
export function ensureBuilt(root: string, log: (s: string) => void): { built: boolean; ms: number } {
  const main = join(root, 'dist', 'main.js');
  const srcNewest = Math.max(
    newestMtime(join(root, 'src')),
    ...['tsconfig.json', 'tsconfig.build.json'].map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)),
  );
  if (existsSync(main) && statSync(main).mtimeMs >= srcNewest) return { built: false, ms: 0 };
  if (!existsSync(join(root, 'src', 'main.ts'))) throw new Error('src/main.ts does not exist yet: nothing to build');
  log('dist/ is missing or stale: running npm run build …');
  const t = performance.now();
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
  return { built: true, ms: performance.now() - t };
}

export interface ServerOptions {
  root: string;
  entry: string;
  usersFile: string;
  domain: string;
  path: string;
  maxWait: number;
  inactivity: number;
  /** write a V8 CPU profile into this directory (node --cpu-prof) */
  profileDir?: string;
  /** taskset CPU list for the server, e.g. "0" */
  cpus?: string;
  extraEnv?: Record<string, string>;
  nodeArgs?: string[];
  echo?: boolean;
  nice?: number;
  /** listen on this port (default: a free one chosen at start) */
  port?: number;
  /** name in log lines and error messages (default "server") */
  name?: string;
  /**
   * after the port accepts connections, wait until GET <path> answers 200 (a cluster node binds its
   * port before it has reached Redis, and serves only once it has)
   */
  readyPath?: string;
}

export interface MemSample {
  rssKb: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  fds: number;
  sockets: number;
}

export class ServerProcess {
  child: ChildProcess | undefined;
  url = '';
  origin = '';
  pid = 0;
  private tail: string[] = [];
  private memWaiters: ((m: Record<string, number>) => void)[] = [];
  private eldWaiters: ((m: Record<string, number>) => void)[] = [];
  exited = false;
  exitCode: number | null = null;
  /** false when the server never printed its "listening" line and was found by probing its port */
  sawListeningLine = false;

  constructor(private readonly opts: ServerOptions) {}

  lastOutput(): string {
    return this.tail.join('\n');
  }

  get name(): string {
    return this.opts.name ?? 'server';
  }

  private keep(line: string): void {
    if (this.opts.echo) process.stdout.write(`[${this.name}] ${line}\n`);
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const o = this.opts;
    const port = o.port ?? (await freePort());
    const nodeArgs = ['--expose-gc', '-r', join(o.root, 'bench', 'server-hook.js')];
    if (o.profileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.profileDir}`);
    if (o.nodeArgs) nodeArgs.push(...o.nodeArgs);
    // The SQLite store of a single node starts empty for every run (nothing left over from the last one).
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
    const cmd = [...(o.nice ? ['nice', '-n', String(o.nice)] : []), ...(o.cpus ? ['taskset', '-c', o.cpus] : []), process.execPath, ...nodeArgs, o.entry];
    const child = spawn('bash', ['-c', ULIMIT_WRAPPER, 'bash', ...cmd], {
      cwd: o.root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        XMPP_DOMAIN: o.domain,
        BOSH_PATH: o.path,
        USERS_FILE: o.usersFile,
        USERS: '',
        BOSH_MAX_WAIT: String(o.maxWait),
        BOSH_INACTIVITY: String(o.inactivity),
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        // the bench needs only the BOSH endpoint
        WEB_CLIENT: 'false',
        // all load comes from one address and a few hundred sessions: lift the per-address and per-session
        // abuse limits, which would otherwise cap what is measured (see docs/performance.md)
        ...BENCH_LIMITS,
        NODE_ENV: 'production',
        ...(o.profileDir ? { BENCH_PROFILE_EXIT: '1' } : {}),
        ...o.extraEnv,
      },
    });
    this.child = child;
    this.pid = child.pid ?? 0;
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      this.exited = true;
      this.exitCode = code;
    });
    let buf = '';
    let ebuf = '';
    let timer: NodeJS.Timeout | undefined;
    const listening = new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not print "listening" within ${timeoutMs} ms:\n${this.lastOutput()}`)), timeoutMs);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.keep(line);
          if (!this.url && line.includes('"msg":"listening"')) {
            const m = /"url":"([^"]+)"/.exec(line);
            if (m && m[1]) {
              clearTimeout(timer);
              resolve(m[1]);
            }
          }
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (code ${code}) before listening:\n${this.lastOutput()}`));
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      ebuf += d;
      let nl: number;
      while ((nl = ebuf.indexOf('\n')) >= 0) {
        const line = ebuf.slice(0, nl);
        ebuf = ebuf.slice(nl + 1);
        if (line.startsWith('BENCH_MEM ')) {
          const m = JSON.parse(line.slice(10)) as Record<string, number>;
          const w = this.memWaiters.shift();
          if (w) w(m);
        } else if (line.startsWith('BENCH_ELD ')) {
          const m = JSON.parse(line.slice(10)) as Record<string, number>;
          const w = this.eldWaiters.shift();
          if (w) w(m);
        } else {
          this.keep(line);
        }
      }
    });
    // Fall back to probing the port: at LOG_LEVEL=warn an info-level "listening" line may not be printed.
    let probing = true;
    const probe = (async (): Promise<string> => {
      const until = performance.now() + timeoutMs;
      while (probing && performance.now() < until && !this.exited) {
        await new Promise((r) => setTimeout(r, 100));
        const up = await new Promise<boolean>((resolve) => {
          const sock = connect(port, '127.0.0.1');
          sock.once('connect', () => {
            sock.destroy();
            resolve(true);
          });
          sock.once('error', () => resolve(false));
        });
        if (up) {
          await new Promise((r) => setTimeout(r, 300)); // give the line a chance to arrive anyway
          return `http://127.0.0.1:${port}${o.path}`;
        }
      }
      return new Promise<string>(() => undefined);
    })();
    this.url = await Promise.race([listening.then((u) => ((this.sawListeningLine = true), u)), probe]);
    probing = false;
    clearTimeout(timer);
    listening.catch(() => undefined);
    const u = new URL(this.url);
    this.origin = `${u.protocol}//${u.host}`;
    if (o.readyPath) {
      const until = performance.now() + timeoutMs;
      let last = '';
      for (;;) {
        if (this.exited) throw new Error(`${this.name} exited (code ${this.exitCode}) before it was ready:\n${this.lastOutput()}`);
        const r = await httpGet(`${this.origin}${o.readyPath}`, 1_000).catch((e: unknown) => ({ status: 0, body: String(e) }));
        if (r.status === 200) break;
        last = `${r.status} ${r.body.slice(0, 200)}`;
        if (performance.now() > until)
          throw new Error(`${this.name}: GET ${o.readyPath} did not answer 200 within ${timeoutMs} ms (last: ${last}):\n${this.lastOutput()}`);
        await new Promise((r2) => setTimeout(r2, 100));
      }
    }
  }

  /** Full GC in the server (via the preloaded hook), twice with a pause, then VmRSS. */
  async settle(pauseMs = 400): Promise<MemSample> {
    let m: Record<string, number> = {};
    for (let i = 0; i < 2; i++) {
      m = await this.gcOnce();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return {
      rssKb: readRssKb(this.pid),
      heapUsed: m.heapUsed ?? NaN,
      heapTotal: m.heapTotal ?? NaN,
      external: m.external ?? NaN,
      arrayBuffers: m.arrayBuffers ?? NaN,
      fds: countFds(this.pid),
      sockets: countSockets(this.pid),
    };
  }

  private gcOnce(): Promise<Record<string, number>> {
    return this.ask(this.memWaiters, 'SIGUSR2');
  }

  /** The server's event-loop delay (ms) since the previous call (via the preloaded hook). */
  async loopDelay(): Promise<{ p50: number; p99: number; max: number }> {
    const m = await this.ask(this.eldWaiters, 'SIGWINCH');
    return { p50: m.p50 ?? NaN, p99: m.p99 ?? NaN, max: m.max ?? NaN };
  }

  private ask(waiters: ((m: Record<string, number>) => void)[], signal: NodeJS.Signals): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      if (this.exited) return resolve({});
      const timer = setTimeout(() => {
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve({});
      }, 10_000);
      const done = (m: Record<string, number>): void => {
        clearTimeout(timer);
        resolve(m);
      };
      waiters.push(done);
      process.kill(this.pid, signal);
    });
  }

  /** SIGTERM (SIGHUP with a CPU profile), then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const started = performance.now();
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    // with a CPU profile, exit normally so that V8 writes it (the hook maps SIGHUP to process.exit)
    child.kill(this.opts.profileDir ? 'SIGHUP' : 'SIGTERM');
    const t = setTimeout(
      () => {
        this.stopKilled = true;
        child.kill('SIGKILL');
      },
      this.opts.profileDir ? 30_000 : graceMs,
    );
    await gone;
    clearTimeout(t);
    this.stopMs = performance.now() - started;
  }

  /** how long the last stop() took, and whether the process had to be SIGKILLed after the grace period */
  stopMs = 0;
  stopKilled = false;

  /** Last resort (synchronous, for process 'exit' handlers): SIGKILL if still running. */
  killNow(): void {
    if (this.child && !this.exited && this.pid) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
