// The memory-per-session-cycle figure: its result type, its summary row and its section of docs/performance.md.
import { keptSection, spliceSection } from './doc-section';
import type { MemSample } from './server';

export interface CyclesResult {
  /** cycles asked for, and how many completed (session created, then terminated) or failed */
  cycles: number;
  ok: number;
  failed: number;
  seconds: number;
  warmup: number;
  /** idle time before each reading */
  settleMs: number;
  /** bosh_sessions on the server after the last reading (should be 0) */
  sessionsLeft: number;
  /** after the warm-up, the idle period and a forced GC; and the same after the measured cycles */
  before: MemSample;
  after: MemSample;
  /** VmRSS 1 s after the measured cycles, without a GC */
  rssSoonKb: number;
  heapPer1000Bytes: number;
  rssPer1000Bytes: number;
  rssSoonPer1000Bytes: number;
}

/** The target, in bytes of heap used per 1,000 cycles (0.5 MB). */
export const CYCLES_TARGET_BYTES = 500_000;

const mb = (bytes: number, digits = 3): string => (Number.isFinite(bytes) ? (bytes / 1e6).toFixed(digits) : 'n/a');

export function cyclesMet(c: CyclesResult): boolean {
  return c.failed === 0 && c.sessionsLeft === 0 && c.heapPer1000Bytes <= CYCLES_TARGET_BYTES;
}

/** The row of the summary table. */
export function cyclesRow(c: CyclesResult): { metric: string; result: string; target: string; met: string; limit: string } {
  return {
    metric: 'Memory left per 1,000 session cycles (create + terminate, no login)',
    result: `heap used ${mb(c.heapPer1000Bytes)} MB, RSS ${mb(c.rssPer1000Bytes)} MB`,
    target: '≤ 0.5 MB (heap used)',
    met: cyclesMet(c) ? 'yes' : 'NO',
    limit: `${c.ok.toLocaleString('en-US')} cycles${c.failed ? ` (${c.failed} failed)` : ''}, ${c.sessionsLeft} sessions left; readings after ${c.settleMs / 1000} s idle and a forced GC`,
  };
}

export const CYCLES_START = "<!-- cycles:start (written by the bench's cycles phase; runs without it keep this section) -->";
export const CYCLES_END = '<!-- cycles:end -->';

/** The cycles section of an existing docs/performance.md (markers included), or ''. */
export function keptCyclesSection(existing: string): string {
  return keptSection(existing, CYCLES_START, CYCLES_END);
}

/** Puts the section into an existing file: in place of the old one, else where a full run puts it. */
export function spliceCyclesSection(existing: string, section: string): string {
  return spliceSection(existing, section, CYCLES_START, CYCLES_END, ['## Server CPU profile', '## Generator or server', '<!-- cluster:start', '## How to run']);
}

export function renderCyclesSection(c: CyclesResult, when: string, command: string): string {
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  const out: string[] = [CYCLES_START, '## Memory per session cycle', ''];
  out.push(
    `Measured ${when.slice(0, 16).replace('T', ' ')} UTC with \`${command}\`: ${c.ok.toLocaleString('en-US')} BOSH sessions created and at once ` +
      `terminated (XEP-0124 §7.1, §13; no login), ${c.failed} failed, in ${c.seconds.toFixed(1)} s, after ${c.warmup.toLocaleString('en-US')} warm-up cycles. ` +
      `Each reading follows ${c.settleMs / 1000} s without load and a forced full GC; ${c.sessionsLeft} sessions were left on the server at the end.`,
  );
  out.push('');
  out.push('| | before | after | per 1,000 cycles |');
  out.push('| --- | --- | --- | --- |');
  out.push(`| JS heap used (the target) | ${mib(c.before.heapUsed)} | ${mib(c.after.heapUsed)} | **${mb(c.heapPer1000Bytes)} MB** |`);
  out.push(`| RSS | ${mib(c.before.rssKb * 1024)} | ${mib(c.after.rssKb * 1024)} | ${mb(c.rssPer1000Bytes)} MB |`);
  out.push(`| RSS 1 s after the load, no GC | | ${mib(c.rssSoonKb * 1024)} | ${mb(c.rssSoonPer1000Bytes)} MB |`);
  out.push(`| JS heap committed (heapTotal) | ${mib(c.before.heapTotal)} | ${mib(c.after.heapTotal)} | |`);
  out.push('');
  out.push(
    `Target: at most 0.5 MB (500,000 bytes) of **heap used** per 1,000 cycles: ${cyclesMet(c) ? 'met' : '**not met**'}. Heap used after a forced GC is ` +
      'what the server still references once the sessions are gone: a map keyed by sid or address that never shrinks, a timer ' +
      'or listener not removed, all show up there and nowhere else first. RSS is reported too but is not the target: it also ' +
      'counts memory that V8 and the allocator keep without using it. Under a burst of allocations V8 grows its young generation ' +
      '(the new space: two semi-spaces of up to 16 MiB each in Node 20 on 64-bit) and keeps those pages until its memory reducer ' +
      'sees the process idle for several seconds; freed malloc pages may stay mapped too. The "1 s after the load" row shows it: ' +
      'read before the reducer has run, RSS looks like megabytes per 1,000 cycles although no object was retained.',
  );
  out.push(CYCLES_END);
  return out.join('\n');
}
