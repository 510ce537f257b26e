// Result types, the console table and docs/performance.md.
import type { CpuReport } from './cpu';
import type { ProfileSummary } from './profile';
import type { StatusResult } from './protocol';
import type { MemSample } from './server';

export interface LoginPass {
  label: string;
  ok: number;
  fail: number;
  seconds: number;
  rate: number;
  httpPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: Record<string, number>;
  sample: string;
  cpu: CpuReport;
  /** other processes on the machine used ≥ 25% of a core during the pass */
  noisy: boolean;
}

export interface MemLevel {
  sessions: number;
  alive: number;
  held: number;
  status: StatusResult;
  mem: MemSample;
  perSessionBytes: number;
  heapPerSessionBytes: number;
}

export interface ChatStepRow {
  rate: number;
  seconds: number;
  scheduled: number;
  received: number;
  lost: number;
  unsent: number;
  duplicates: number;
  late: number;
  bounced: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  p50sched: number;
  p99sched: number;
  deadSessions: number;
  pass: boolean;
  cpu: CpuReport;
  /** event-loop delay during the step (ms): server (via bench/server-hook.js) and worst generator */
  serverLoopP99: number;
  serverLoopMax: number;
  genLoopP99: number;
  genLoopMax: number;
  noisy: boolean;
  /** runs of this step (a disturbed step is repeated) */
  attempts: number;
}

export interface BenchResults {
  when: string;
  quick: boolean;
  command: string;
  config: Record<string, unknown>;
  machine: { nproc: number; model: string; node: string; memGiB: number; kernel: string; nofile: string };
  login?: { cold: LoginPass; warm: LoginPass };
  memory?: { baseline: MemSample; levels: MemLevel[] };
  chat?: { setup: string; base: ChatStepRow | undefined; steps: ChatStepRow[]; maxRate: number; firstFail: ChatStepRow | undefined };
  profiles?: ProfileSummary[];
  totalSeconds?: number;
  /** machine busy % (all cores) just before each phase, from processes outside the bench */
  background?: Record<string, number>;
  notes?: string[];
}

const SAT = 85;

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Which side ran out of CPU first, from main-thread (event loop) utilisation. */
export function limitOf(c: CpuReport | undefined): string {
  if (!c) return 'n/a';
  const srv = c.procs.find((p) => p.name === 'server');
  const gens = c.procs.filter((p) => p.name.startsWith('gen'));
  const s = srv?.mainAvg ?? 0;
  const g = Math.max(0, ...gens.map((p) => p.mainAvg));
  if (s >= SAT && g >= SAT) return 'both saturated';
  if (s >= SAT) return 'server';
  if (g >= SAT) return 'generator';
  if (c.machine >= SAT) return 'machine (both cores busy)';
  return 'neither saturated';
}

export function cpuText(c: CpuReport | undefined): string {
  if (!c) return 'n/a';
  const srv = c.procs.find((p) => p.name === 'server');
  const gens = c.procs.filter((p) => p.name.startsWith('gen'));
  return (
    `server ${fmt(srv?.mainAvg ?? NaN)}% (all threads ${fmt(srv?.avg ?? NaN)}%), generator ${gens.map((g) => fmt(g.mainAvg) + '%').join(' + ')}, ` +
    `machine ${fmt(c.machine)}% of ${c.cores} cores` +
    (c.irq >= 5 ? `, interrupts ${fmt(c.irq)}%` : '') +
    (c.steal >= 5 ? `, steal ${fmt(c.steal)}%` : '') +
    (c.other >= 10 ? `, OTHER processes ${fmt(c.other)}%` : '')
  );
}

interface Row {
  metric: string;
  result: string;
  target: string;
  met: string;
  limit: string;
}

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  if (r.login) {
    for (const p of [r.login.cold, r.login.warm]) {
      out.push({
        metric: `Logins/s, ${p.label === 'cold' ? 'cold (first login, PBKDF2)' : 'warm (repeat login)'}`,
        result: `${fmt(p.rate)}/s${p.fail ? ` (${fmt(p.fail)} failed)` : ''}`,
        target: '≥ 1,000/s',
        met: p.rate >= 1000 && p.fail === 0 ? 'yes' : 'NO',
        limit: `${limitOf(p.cpu)}: ${cpuText(p.cpu)}`,
      });
    }
  }
  if (r.memory) {
    for (const l of r.memory.levels) {
      const target = l.sessions >= 10_000 ? '≤ 16 KB' : '';
      out.push({
        metric: `Server RSS per idle session @${fmt(l.sessions)}`,
        result: `${fmt(l.perSessionBytes / 1024, 1)} KiB (heap ${fmt(l.heapPerSessionBytes / 1024, 1)} KiB)`,
        target: target || '—',
        met: target ? (l.perSessionBytes <= 16 * 1024 && l.alive === l.sessions && l.held === l.alive ? 'yes' : 'NO') : '—',
        limit: `${fmt(l.alive)} alive, ${fmt(l.held)} holding one request, ${fmt(l.mem.sockets)} server sockets`,
      });
    }
  }
  if (r.chat) {
    const b = r.chat.base;
    if (b) {
      out.push({
        metric: `Chat latency @${fmt(b.rate)} msg/s p50 / p99`,
        result: `${fmt(b.p50, 2)} / ${fmt(b.p99, 2)} ms${b.lost ? ` (${fmt(b.lost)} lost)` : ''}`,
        target: 'p99 ≤ 5 ms',
        met: b.p99 <= 5 && b.lost === 0 ? 'yes' : 'NO',
        limit: `${limitOf(b.cpu)}: ${cpuText(b.cpu)}`,
      });
    }
    const best = r.chat.steps.filter((s) => s.pass).sort((a, c) => c.rate - a.rate)[0];
    const fail = r.chat.firstFail;
    out.push({
      metric: 'Max chat rate, p99 < 100 ms, 0 lost',
      result: `${fmt(r.chat.maxRate)} msg/s${best ? ` (p99 ${fmt(best.p99, 1)} ms)` : ''}`,
      target: '≥ 4,000 msg/s',
      met: r.chat.maxRate >= 4000 ? 'yes' : 'NO',
      limit: fail ? `at ${fmt(fail.rate)} msg/s ${limitOf(fail.cpu)}: ${cpuText(fail.cpu)}` : best ? `${limitOf(best.cpu)}: ${cpuText(best.cpu)}` : 'n/a',
    });
  }
  return out;
}

function textTable(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i] as number)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

function mdTable(head: string[], body: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function chatRows(r: BenchResults): string[][] {
  if (!r.chat) return [];
  const all = [...(r.chat.base ? [r.chat.base] : []), ...r.chat.steps];
  return all.map((s) => [
    fmt(s.rate),
    `${fmt(s.received)}/${fmt(s.scheduled)}`,
    fmt(s.lost),
    fmt(s.p50, 2),
    fmt(s.p99, 2),
    fmt(s.p999, 1),
    fmt(s.max, 1),
    fmt(s.p99sched, 2),
    `${fmt(s.cpu.procs.find((p) => p.name === 'server')?.mainAvg ?? NaN)}%`,
    s.cpu.procs.filter((p) => p.name.startsWith('gen')).map((p) => fmt(p.mainAvg) + '%').join('+'),
    `${fmt(s.cpu.machine)}%`,
    `${fmt(s.cpu.other)}%`,
    `${fmt(s.serverLoopP99, 1)} / ${fmt(s.genLoopP99, 1)}`,
    (s.pass ? 'pass' : 'FAIL') + (s.noisy ? ' (disturbed)' : '') + ((s.attempts ?? 1) > 1 ? ` (run ${s.attempts}×)` : ''),
  ]);
}

const CHAT_HEAD = ['msg/s', 'received', 'lost', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 from schedule', 'server CPU', 'generator CPU', 'machine', 'other procs', 'loop delay p99 ms srv / gen', ''];

export function renderTable(r: BenchResults): string {
  const rs = rows(r);
  let s = textTable(['metric', 'result', 'target', 'met', 'limit / CPU (main thread, % of one core)'], rs.map((x) => [x.metric, x.result, x.target, x.met, x.limit]));
  if (r.chat) s += '\n\nChat steps:\n' + textTable(CHAT_HEAD, chatRows(r));
  s += '\n\nWhich side ran out of CPU first:\n' + limitLines(r).map((l) => `  - ${l}`).join('\n');
  if (r.profiles?.length) {
    for (const p of r.profiles) {
      s += `\n\nServer CPU profile ${p.file} (${fmt(p.totalMs)} ms busy, ${fmt(p.idleMs)} ms idle), top self time:\n`;
      s += textTable(['self ms', '% of busy', 'function'], p.functions.slice(0, 20).map(([f, m, pc]) => [fmt(m), fmt(pc, 1), f]));
      s += '\n\nby file / package:\n' + textTable(['self ms', '% of busy', 'file'], p.files.slice(0, 12).map(([f, m, pc]) => [fmt(m), fmt(pc, 1), f]));
    }
  }
  return s;
}

export function limitLines(r: BenchResults): string[] {
  const out: string[] = [];
  const one = (what: string, c: CpuReport | undefined): void => {
    if (!c) return;
    const srv = c.procs.find((p) => p.name === 'server');
    const gen = Math.max(0, ...c.procs.filter((p) => p.name.startsWith('gen')).map((p) => p.mainAvg));
    const verdict = limitOf(c);
    const who =
      verdict === 'server'
        ? 'the server saturated its core first'
        : verdict === 'generator'
          ? 'the GENERATOR saturated its core first: the figure understates the server (rerun with --workers=2)'
          : verdict === 'both saturated'
            ? 'both event loops were saturated'
            : verdict === 'machine (both cores busy)'
              ? 'neither event loop was saturated but the two cores were full (server threads + generator + interrupts)'
              : 'neither side was CPU-bound';
    out.push(`${what}: ${who} — server main thread ${fmt(srv?.mainAvg ?? NaN)}% (process ${fmt(srv?.avg ?? NaN)}%), generator ${fmt(gen)}%, machine ${fmt(c.machine)}%.`);
  };
  if (r.login) {
    one('Cold logins', r.login.cold.cpu);
    one('Warm logins', r.login.warm.cpu);
  }
  if (r.chat) {
    const best = r.chat.steps.filter((s) => s.pass).sort((a, b) => b.rate - a.rate)[0];
    if (best) one(`Chat at ${fmt(best.rate)} msg/s (highest passing)`, best.cpu);
    if (r.chat.firstFail) one(`Chat at ${fmt(r.chat.firstFail.rate)} msg/s (first failing)`, r.chat.firstFail.cpu);
  }
  return out;
}

export const NOTES_START = '<!-- notes:start (kept when the bench rewrites this file) -->';
export const NOTES_END = '<!-- notes:end -->';

/** The hand-written block of an existing docs/performance.md, to carry over into the new one. */
export function keptNotes(existing: string): string {
  const a = existing.indexOf(NOTES_START);
  const b = existing.indexOf(NOTES_END);
  return a >= 0 && b > a ? existing.slice(a + NOTES_START.length, b).trim() : '';
}

export function renderMarkdown(r: BenchResults, notes = ''): string {
  const m = r.machine;
  const rs = rows(r);
  const out: string[] = [];
  out.push('# Performance');
  out.push('');
  out.push(
    `Figures from the bench in \`bench/\` (a load generator of our own), measured ${r.when.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\` ` +
      `(${fmt(r.totalSeconds ?? NaN)} s). This file is written by the full run; rerun it to refresh the numbers.`,
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(`- ${m.nproc} cores (\`nproc\`), CPU model \`${m.model}\` (from /proc/cpuinfo), ${fmt(m.memGiB, 1)} GiB RAM, ${m.kernel}`);
  out.push(`- Node ${m.node}; open-files limit ${m.nofile} (the bench raises it for its children with \`ulimit -n\`)`);
  out.push('- The load generator runs on the same machine as the server and competes with it for the two cores.');
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push(mdTable(['metric', 'result', 'target', 'met', 'what limited it (main-thread CPU, % of one core)'], rs.map((x) => [x.metric, x.result, x.target, x.met, x.limit])));
  out.push('');
  if (r.login) {
    out.push('## Logins per second');
    out.push('');
    out.push(
      mdTable(
        ['pass', 'sessions', 'failed', 'seconds', 'logins/s', 'HTTP req/s', 'login time p50', 'login time p99', 'CPU'],
        [r.login.cold, r.login.warm].map((p) => [p.label, fmt(p.ok), fmt(p.fail), fmt(p.seconds, 2), fmt(p.rate), fmt(p.httpPerSec), `${fmt(p.p50ms, 1)} ms`, `${fmt(p.p99ms, 1)} ms`, cpuText(p.cpu)]),
      ),
    );
    out.push('');
  }
  if (r.memory) {
    out.push('## Memory per idle session');
    out.push('');
    const b = r.memory.baseline;
    out.push(`Baseline (after start-up, a 300-login warm-up whose sessions were terminated, and a forced GC): RSS ${fmt(b.rssKb / 1024, 1)} MiB, JS heap used ${fmt(b.heapUsed / 1048576, 1)} MiB.`);
    out.push('');
    out.push(
      mdTable(
        ['sessions', 'alive', 'holding 1 request', 'server sockets', 'RSS', 'RSS − baseline per session', 'heap used per session', 'external+arrayBuffers'],
        r.memory.levels.map((l) => [
          fmt(l.sessions),
          fmt(l.alive),
          fmt(l.held),
          fmt(l.mem.sockets),
          `${fmt(l.mem.rssKb / 1024, 1)} MiB`,
          `${fmt(l.perSessionBytes / 1024, 2)} KiB`,
          `${fmt(l.heapPerSessionBytes / 1024, 2)} KiB`,
          `${fmt((l.mem.external + l.mem.arrayBuffers) / 1048576, 1)} MiB`,
        ]),
      ),
    );
    out.push('');
    const [a, z] = [r.memory.levels[0], r.memory.levels[r.memory.levels.length - 1]];
    if (a && z && z.sessions > a.sessions) {
      out.push(`Marginal cost between ${fmt(a.sessions)} and ${fmt(z.sessions)} sessions: ${fmt(((z.mem.rssKb - a.mem.rssKb) * 1024) / (z.alive - a.alive) / 1024, 2)} KiB RSS per session.`);
      out.push('');
    }
  }
  if (r.chat) {
    out.push('## Chat latency and throughput');
    out.push('');
    out.push(`Setup: ${r.chat.setup}. Highest rate passing (p99 < 100 ms from both the POST and the schedule, nothing lost): **${fmt(r.chat.maxRate)} msg/s**.`);
    out.push('');
    out.push(mdTable(CHAT_HEAD, chatRows(r)));
    out.push('');
  }
  if (r.profiles?.length) {
    out.push('## Server CPU profile');
    out.push('');
    for (const p of r.profiles) {
      out.push(`\`${p.file}\` (${fmt(p.totalMs)} ms busy, ${fmt(p.idleMs)} ms idle); top self time:`);
      out.push('');
      out.push(mdTable(['self ms', '% of busy', 'function'], p.functions.slice(0, 20).map(([f, ms, pc]) => [fmt(ms), fmt(pc, 1), `\`${f}\``])));
      out.push('');
      out.push(mdTable(['self ms', '% of busy', 'file / package'], p.files.slice(0, 12).map(([f, ms, pc]) => [fmt(ms), fmt(pc, 1), `\`${f}\``])));
      out.push('');
    }
  }
  out.push('## Generator or server: which ran out of CPU first');
  out.push('');
  for (const line of limitLines(r)) out.push(`- ${line}`);
  out.push('');
  if (r.notes?.length) {
    out.push('## Observations from this run');
    out.push('');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  if (notes) {
    out.push('## Analysis');
    out.push('');
    out.push(NOTES_START);
    out.push(notes);
    out.push(NOTES_END);
    out.push('');
  }
  out.push(METHOD);
  return out.join('\n') + '\n';
}

const METHOD = `## How to run

\`\`\`sh
npm ci
npm run bench -- --nice=-10   # full run, under 10 minutes; writes docs/performance.md and .tmp/bench-results.json
npm run bench -- --quick      # under a minute; prints the table only (add --write-docs to write this file)
npm run bench -- --help       # all options; each also works as an env var, e.g. BENCH_WORKERS=2
npm run bench -- --quick --phases=login,chat --profile   # server under node --cpu-prof; prints its hottest functions
\`\`\`

\`--nice=-10\` (root) gives the bench's processes priority over unrelated ones: with autogroup scheduling the bench
sets the nice value of its own session's autogroup, which the server and the workers share. Without it, builds or
test runs elsewhere on the machine show up directly in the latencies. Whatever the setting, every measurement
reports the CPU used meanwhile by other processes ("other procs"). A login pass where they used ≥ 25% of a core
is run once more (a cold pass with accounts that are still cold) and the faster run is kept. Since interference
can only make a chat step look worse, a disturbed chat step that passed stands, while a disturbed baseline or a
disturbed failure is run up to twice more and the least disturbed run is kept (for the search, any passing run).
A result that stays disturbed is marked so.

\`bench/run.ts\` runs \`npm run build\` first when \`dist/\` is older than \`src/\`. It writes a USERS_FILE of 100,000
\`name:password\` lines to a temp dir and starts a fresh \`node dist/main.js\` for each phase with HOST=127.0.0.1, a free
PORT, LOG_LEVEL=warn, BOSH_MAX_WAIT=60, BOSH_INACTIVITY=60 and, because all the load comes from one address and
a few hundred chat sessions, the gateway's abuse limits lifted: NEW_SESSIONS_PER_ADDRESS=10000000,
STANZAS_PER_SECOND=100000, STANZA_BURST=1000000 (with the defaults, 600 new sessions per minute per address and
20 stanzas per second per session, the login and chat figures would measure those limits); WEB_CLIENT=false.
The server is started as \`node --expose-gc -r bench/server-hook.js dist/main.js\`: the hook only answers two signals
from the bench, SIGUSR2 (full GC, then \`process.memoryUsage()\` on stderr) and SIGWINCH (event-loop delay since the
last call); it takes no part in request handling. Load comes from \`bench/worker.ts\` processes (\`--workers\`,
default 1) using an undici Pool (keep-alive, one socket per in-flight request, no pipelining), string-template
requests and \`indexOf\` response scanning. All traffic goes to 127.0.0.1; every loop is bounded in count and time,
and the run plans to finish within \`--deadline-ms\` (9 minutes; quick: 55 s).

## How each figure is measured

- **Logins/s.** Each client does the five exchanges of a PLAIN login: session creation, \`<auth mechanism='PLAIN'>\`,
  stream restart, resource bind, then one body holding the session iq and the initial \`<presence/>\` (answered at once
  by the iq result). 256 clients run concurrently over keep-alive connections (a few hundred sockets). Rate =
  sessions logged in / wall time from the first request to the last response (CLOCK_MONOTONIC, comparable across
  processes). The **cold** pass uses accounts that never logged in, so the server reads the account's line from
  the users file and derives its PBKDF2 key (SHA-256, 4096 iterations, on the libuv thread pool); the sessions are
  then terminated (not timed) and the **warm** pass logs the same accounts in again on the same server, which
  now answers from its login cache.
- **Memory per idle session.** Fresh server; 300 warm-up logins are made and terminated; a forced GC (twice) and
  VmRSS from /proc/PID/status of the server process give the baseline. Then sessions are logged in and each keeps
  exactly one request held at the server (an empty poll with the next rid, re-issued whenever the held one
  returns, so sessions neither expire nor poll early); the bench waits until every session has exactly one request
  outstanding, lets the server settle, forces GC and reads VmRSS again. Per session = (RSS − baseline) / live
  sessions, in KiB (1,024 bytes). The heap column is the same difference of \`heapUsed\`. Server sockets are
  counted from /proc/PID/fd.
- **Chat latency.** Receivers hold requests; senders POST \`<message to='receiver@localhost/r' type='chat' id=…>\`
  at a steady open-loop rate: messages are scheduled on a fixed timeline and spread over the senders; a sender
  with its two allowed requests (hold + 1) already outstanding keeps the next messages and sends them together in
  its next body. Latency = time from the POST carrying the message leaving the generator to the receiver's held
  response arriving with it, matched by message id (hdr-histogram, µs). "p99 from schedule" measures from the
  scheduled send time instead, so that waiting in the generator is not hidden (coordinated omission). After each
  step the bench waits up to the drain time; every scheduled message is counted received or lost (duplicates,
  late arrivals and error bounces are counted too). A 500 msg/s warm-up step precedes the baseline and is not
  reported. "loop delay" is the event-loop delay p99 of the server and of the generator during the step.
- **Max chat rate.** After the 500 msg/s baseline, rates step up until a step fails (p99 ≥ 100 ms by either measure,
  or any message lost), then bisect between the last pass and the first failure.
- **Which side was the limit.** During each measured window the bench samples /proc/PID/stat of the server and of
  each generator process, and /proc/PID/task/PID/stat of their main threads (the JS event loop, which is what
  saturates first in Node), over the sending period of the step. A side counts as saturated at ≥ ${SAT}% of one
  core on its main thread; "machine" means the two cores together were ≥ ${SAT}% busy without either event loop
  reaching that. "interrupts" is the machine's irq+softirq
  time (mostly loopback TCP) and "other procs" is the rest of the machine's busy time not used by the bench.
`;
