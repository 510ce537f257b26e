// Forks the load-generator worker processes and talks to them over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Reply, WorkerCmd } from './protocol';
import { ULIMIT_WRAPPER } from './server';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class Workers {
  readonly procs: ChildProcess[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor() {}

  static async start(root: string, n: number, opts: { cpus?: string; lifetimeMs: number; nodeArgs?: string[]; nice?: number }): Promise<Workers> {
    const w = new Workers();
    for (let i = 0; i < n; i++) {
      const cmd = [
        ...(opts.nice ? ['nice', '-n', String(opts.nice)] : []),
        ...(opts.cpus ? ['taskset', '-c', opts.cpus] : []),
        process.execPath,
        ...(opts.nodeArgs ?? []),
        '-r',
        join(root, 'scripts', 'register-ts.js'),
        join(root, 'bench', 'worker.ts'),
      ];
      // through bash so that the open-files limit can be raised; exec keeps the pid and the IPC channel
      const child = spawn('bash', ['-c', ULIMIT_WRAPPER, 'bash', ...cmd], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m: Reply) => {
        const p = w.pending.get(m.id);
        if (!p) return;
        w.pending.delete(m.id);
        if (m.ok) p.resolve(m.data);
        else p.reject(new Error(`worker ${i}: ${m.error}`));
      });
      child.on('exit', (code, sig) => {
        for (const [id, p] of w.pending) {
          p.reject(new Error(`worker ${i} exited (${code ?? sig})`));
          w.pending.delete(id);
        }
      });
      w.procs.push(child);
    }
    await Promise.all(w.procs.map((_, i) => w.call(i, { type: 'init', workerId: i, lifetimeMs: opts.lifetimeMs })));
    return w;
  }

  get size(): number {
    return this.procs.length;
  }

  pids(): number[] {
    return this.procs.map((p) => p.pid ?? 0);
  }

  call<T>(i: number, cmd: WorkerCmd): Promise<T> {
    const id = this.nextId++;
    const child = this.procs[i];
    if (!child) return Promise.reject(new Error(`no worker ${i}`));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd });
    });
  }

  all<T>(cmd: (i: number) => WorkerCmd): Promise<T[]> {
    return Promise.all(this.procs.map((_, i) => this.call<T>(i, cmd(i))));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 3_000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.disconnect();
          }),
      ),
    );
  }
}

/** Split [from, from+count) into n contiguous ranges. */
export function split(from: number, count: number, n: number): { from: number; count: number }[] {
  const out: { from: number; count: number }[] = [];
  let at = from;
  for (let i = 0; i < n; i++) {
    const c = Math.floor(count / n) + (i < count % n ? 1 : 0);
    out.push({ from: at, count: c });
    at += c;
  }
  return out;
}
