/**
 * A gateway node as a real OS process in cluster mode:
 * `node -r ./scripts/register-ts.js src/main.ts` (TypeScript transpiled on the fly, no build),
 * configured only through the environment given here (nothing leaks in from the test's own
 * environment but PATH). Its pino log (JSON lines) goes to a file the test can read.
 */
import { join, resolve } from 'node:path';
import { rawRequest } from './raw-http';
import { GroupProcess, type GroupMember } from './process-group';

const REPO = resolve(__dirname, '..', '..', '..');

export interface ClusterNodeOptions {
  readonly id: string;
  readonly port: number;
  readonly redisUrl: string;
  readonly secret: string;
  readonly users: string;
  readonly logDir: string;
  readonly heartbeatMs: number;
  readonly nodeTtlMs: number;
  readonly extraEnv?: Record<string, string>;
}

export class ClusterNodeProcess {
  private constructor(
    readonly options: ClusterNodeOptions,
    readonly process: GroupProcess,
  ) {}

  /** Spawns the node and waits until it logged 'listening' and answers /healthz. */
  static async start(options: ClusterNodeOptions, timeoutMs = 20_000): Promise<ClusterNodeProcess> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      CLUSTER_SECRET: options.secret,
      NODE_ID: options.id,
      NODE_URL: `http://127.0.0.1:${options.port}`,
      USERS: options.users,
      LOG_LEVEL: 'info',
      WEB_CLIENT: 'false',
      HEARTBEAT_MS: String(options.heartbeatMs),
      NODE_TTL_MS: String(options.nodeTtlMs),
      ...options.extraEnv,
    };
    const child = GroupProcess.spawn(`node ${options.id} :${options.port}`, process.execPath, ['-r', './scripts/register-ts.js', 'src/main.ts'], {
      cwd: REPO,
      env,
      logFile: join(options.logDir, `node-${options.id}.log`),
    });
    const node = new ClusterNodeProcess(options, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.hasExited) throw new Error(`${options.id} did not start\n${child.tail()}`);
      if (Date.now() > deadline) {
        await child.killGroup();
        throw new Error(`${options.id} not ready within ${timeoutMs} ms\n${child.tail()}`);
      }
      // The port is bound before Redis is reached and requests are only served once everything
      // is up, so wait for the 'listening' line first, then for /healthz.
      if (/"msg":"listening"/.test(child.log())) {
        const ok = await rawRequest(`${node.url}/healthz`, 'GET', undefined, {}, 1_000).then(
          (res) => res.status === 200,
          () => false,
        );
        if (ok) return node;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get id(): string {
    return this.options.id;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** "127.0.0.1:port", as nginx writes it in $upstream_addr. */
  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  /** The node's Prometheus text, straight from the node (not through nginx). */
  async metricsText(): Promise<string> {
    const res = await rawRequest(`${this.url}/metrics`, 'GET', undefined, {}, 2_000);
    if (res.status !== 200) throw new Error(`${this.id}: /metrics answered ${res.status}`);
    return res.body;
  }

  /** Sum of every sample of a metric (over all label sets). */
  async metricSum(name: string): Promise<number> {
    return sumMetric(await this.metricsText(), name);
  }

  /** The node's log as parsed pino records. */
  logRecords(): Array<Record<string, unknown>> {
    return this.process
      .log()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** SIGKILL: the node dies without deregistering (no shutdown code runs). */
  kill(): Promise<GroupMember[]> {
    return this.process.killGroup();
  }

  get alive(): boolean {
    return !this.process.hasExited;
  }
}

export function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) total += Number(match[3]);
  }
  return total;
}
