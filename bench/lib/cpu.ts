// CPU accounting from /proc: per process (all threads), per main thread (the JS event loop), and the whole machine.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';

let clkTck = 0;
export function ticksPerSecond(): number {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime+stime in ticks from a /proc/.../stat file, or undefined if the process is gone. */
export function readTicks(statPath: string): number | undefined {
  let s: string;
  try {
    s = readFileSync(statPath, 'utf8');
  } catch {
    return undefined;
  }
  // fields after "(comm)": state is field 3; utime/stime are fields 14/15
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export interface MachineTicks {
  busy: number;
  total: number;
  /** hard + soft interrupts (loopback TCP is mostly softirq) */
  irq: number;
  /** time the hypervisor gave to someone else */
  steal: number;
}

export function readMachine(): MachineTicks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total, irq: (v[5] ?? 0) + (v[6] ?? 0), steal: v[7] ?? 0 };
}

export function readRssKb(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
  return m ? Number(m[1]) : NaN;
}

export function countFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export function countSockets(pid: number): number {
  // sockets among the open fds (readlink is "socket:[inode]")
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    return NaN;
  }
  return n;
}

export interface ProcCpu {
  name: string;
  pid: number;
  /** whole process, % of one core, averaged over the window */
  avg: number;
  /** main (event-loop) thread only, % of one core */
  mainAvg: number;
  /** highest main-thread % over one sampling interval */
  mainPeak: number;
}

export interface CpuReport {
  seconds: number;
  procs: ProcCpu[];
  /** whole machine busy %, of all cores (100 = every core busy) */
  machine: number;
  cores: number;
  /** CPU used by processes outside the bench (machine busy minus the tracked processes, interrupts and steal), % of one core */
  other: number;
  /** interrupt time (mostly loopback networking), % of one core */
  irq: number;
  /** hypervisor steal, % of one core */
  steal: number;
}

/** Machine busy % (of all cores) over the next `ms`. */
export async function machineBusy(ms: number): Promise<number> {
  const a = readMachine();
  await new Promise((r) => setTimeout(r, ms));
  const b = readMachine();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : 0;
}

interface Track {
  name: string;
  pid: number;
  first: number;
  firstMain: number;
  lastMain: number;
  peak: number;
  last: number;
}

/** Samples the given processes every `intervalMs` between start() and stop(). */
export class CpuWatch {
  private tracks: Track[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private lastT = 0;
  private m0: MachineTicks = { busy: 0, total: 0, irq: 0, steal: 0 };

  constructor(
    private readonly procs: { name: string; pid: number }[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.t0 = this.lastT = performance.now();
    this.m0 = readMachine();
    this.tracks = this.procs.map((p) => {
      const all = readTicks(`/proc/${p.pid}/stat`) ?? 0;
      const main = readTicks(`/proc/${p.pid}/task/${p.pid}/stat`) ?? 0;
      return { name: p.name, pid: p.pid, first: all, firstMain: main, lastMain: main, peak: 0, last: all };
    });
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    const now = performance.now();
    const dt = (now - this.lastT) / 1000;
    this.lastT = now;
    const hz = ticksPerSecond();
    for (const t of this.tracks) {
      const all = readTicks(`/proc/${t.pid}/stat`);
      const main = readTicks(`/proc/${t.pid}/task/${t.pid}/stat`);
      if (all === undefined || main === undefined) continue;
      const pct = dt > 0 ? ((main - t.lastMain) / hz / dt) * 100 : 0;
      if (pct > t.peak) t.peak = pct;
      t.lastMain = main;
      t.last = all;
    }
  }

  stop(): CpuReport {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const secs = (performance.now() - this.t0) / 1000;
    const hz = ticksPerSecond();
    const m1 = readMachine();
    const cores = Math.max(1, cpus().length);
    const dTotal = m1.total - this.m0.total;
    const share = (a: number, b: number): number => (dTotal > 0 ? ((a - b) / dTotal) * 100 : 0);
    const machine = share(m1.busy, this.m0.busy);
    const irq = share(m1.irq, this.m0.irq) * cores;
    const steal = share(m1.steal, this.m0.steal) * cores;
    const procs = this.tracks.map((t) => ({
      name: t.name,
      pid: t.pid,
      avg: secs > 0 ? ((t.last - t.first) / hz / secs) * 100 : 0,
      mainAvg: secs > 0 ? ((t.lastMain - t.firstMain) / hz / secs) * 100 : 0,
      mainPeak: t.peak,
    }));
    const tracked = procs.reduce((a, p) => a + p.avg, 0);
    return { seconds: secs, cores, machine, procs, irq, steal, other: Math.max(0, machine * cores - tracked - irq - steal) };
  }
}
