'use strict';
// Preloaded into the server child by the bench only (`node --expose-gc -r bench/server-hook.js dist/main.js`).
// It adds nothing to request handling: SIGUSR2 runs a full GC and prints process.memoryUsage() on stderr,
// so the bench can read a settled RSS; SIGWINCH prints the server's event-loop delay. With BENCH_PROFILE_EXIT=1, SIGHUP exits normally so that
// `--cpu-prof` can write its profile.
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  process.stderr.write(`BENCH_MEM ${JSON.stringify(process.memoryUsage())}\n`);
});
// SIGWINCH: print the event-loop delay seen since the previous SIGWINCH, then reset it. The histogram
// holds whole timer intervals (sampled every 5 ms), so the 5 ms are taken off.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const RES = 5;
const eld = monitorEventLoopDelay({ resolution: RES });
eld.enable();
const late = (ns) => Math.max(0, ns / 1e6 - RES);
process.on('SIGWINCH', () => {
  const out = { p50: late(eld.percentile(50)), p99: late(eld.percentile(99)), max: late(eld.max), count: eld.count };
  eld.reset();
  process.stderr.write(`BENCH_ELD ${JSON.stringify(out)}\n`);
});
if (process.env.BENCH_PROFILE_EXIT === '1') {
  process.on('SIGHUP', () => process.exit(0));
}
