'use strict';
// Preloaded into the server child by the bench only (`node --expose-gc -r bench/server-hook.js dist/main.js`).
// It adds nothing to request handling: SIGUSR2 runs a full GC and prints process.memoryUsage() on stderr,
// so the bench can read a settled RSS. With BENCH_PROFILE_EXIT=1, SIGHUP exits normally so that
// `--cpu-prof` can write its profile.
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  process.stderr.write(`BENCH_MEM ${JSON.stringify(process.memoryUsage())}\n`);
});
if (process.env.BENCH_PROFILE_EXIT === '1') {
  process.on('SIGHUP', () => process.exit(0));
}
