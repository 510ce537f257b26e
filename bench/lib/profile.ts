// Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per function and per file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** sampled time outside "(idle)" */
  totalMs: number;
  idleMs: number;
  /** [label, self ms, % of profile] */
  functions: [string, number, number][];
  files: [string, number, number][];
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (e.endsWith('.cpuprofile')) out.push(p);
  }
  return out;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('/node_modules/');
  if (i >= 0) return u.slice(i + 1);
  const d = u.indexOf('/dist/');
  if (d >= 0) return u.slice(d + 1);
  return u.startsWith('node:') ? u : u.split('/').slice(-2).join('/');
}

export function summarizeProfile(dir: string, top: number): ProfileSummary[] {
  return files(dir).map((f) => {
    const p = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    for (const n of p.nodes) byId.set(n.id, n);
    const self = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i] as number;
      self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
    const fn = new Map<string, number>();
    const file = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (const [id, us] of self) {
      const n = byId.get(id);
      if (!n) continue;
      const cf = n.callFrame;
      if (cf.functionName === '(idle)') {
        idle += us;
        continue;
      }
      total += us;
      const url = shortUrl(cf.url);
      const label = `${cf.functionName || '(anonymous)'}${url ? ` ${url}:${cf.lineNumber + 1}` : ''}`;
      fn.set(label, (fn.get(label) ?? 0) + us);
      const fl = url || cf.functionName || '(native)';
      file.set(fl, (file.get(fl) ?? 0) + us);
    }
    const rank = (m: Map<string, number>): [string, number, number][] =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, v / 1000, total ? (v / total) * 100 : 0]);
    return { file: relative(process.cwd(), f), totalMs: total / 1000, idleMs: idle / 1000, functions: rank(fn), files: rank(file) };
  });
}
