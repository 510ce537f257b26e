import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Persistence of a TestRedis: none by default; with `aofDir`, configured as docs/deployment.md tells
 * operators to run Redis (`appendonly yes`, `appendfsync everysec`, `maxmemory-policy noeviction`),
 * its data in that directory, kept across a stop and start.
 */
export interface TestRedisOptions {
  readonly aofDir?: string;
}

/** A real redis-server of the test's own, on a free port, that can be stopped and started again. */
export class TestRedis {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly options: TestRedisOptions,
  ) {}

  static async start(options: TestRedisOptions = {}): Promise<TestRedis> {
    if (options.aofDir !== undefined) mkdirSync(options.aofDir, { recursive: true });
    const redis = new TestRedis(await freePort(), options);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { aofDir } = this.options;
    const persistence =
      aofDir === undefined ? ['--appendonly', 'no'] : ['--dir', aofDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}`));
      });
    });
  }

  /** Stops it with `signal` (SIGTERM: a clean shutdown, AOF written) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.process = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
