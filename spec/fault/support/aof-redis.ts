/**
 * A redis-server configured as docs/deployment.md tells operators to run it — `appendonly yes`,
 * `appendfsync everysec`, `maxmemory-policy noeviction` — with its data in a directory of the run,
 * on a free loopback port. `restart(downMs)` stops it the way an operator's restart does (SIGTERM:
 * Redis writes what it has and exits) and starts it again on the same port and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../support/redis-server';

export class AofRedis {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<AofRedis> {
    mkdirSync(dir, { recursive: true });
    const redis = new AofRedis(await freePort(), dir);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** Stops Redis with `signal` (SIGTERM: a clean shutdown) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.process = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** An operator's restart: stopped, down for `downMs`, started again on the same data. */
  async restart(downMs: number): Promise<void> {
    await this.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }
}
