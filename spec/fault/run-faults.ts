/**
 * `npm run faults [-- case ...]`: the fault harness (support/fault-run.ts) from the command line, one
 * case after another (all of them by default: none, sigterm, sigkill, redis-restart, sigstop), then
 * the table. FAULT_VERBOSE=1 prints what the clients saw; FAULT_KEEP_LOGS=1 keeps the node logs.
 */
import { DEFAULT_RUN, FAULTS, formatTable, runFaultCase, type Fault, type FaultRunResult } from './support/fault-run';

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(FAULTS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown case(s) ${unknown.join(', ')}; known: ${FAULTS.join(', ')}`);
  const cases = (asked.length > 0 ? asked : [...FAULTS]) as Fault[];
  const verbose = process.env.FAULT_VERBOSE === '1';
  const results: FaultRunResult[] = [];
  for (const fault of cases) {
    const started = Date.now();
    const result = await runFaultCase(fault, { ...DEFAULT_RUN, log: verbose ? (line) => process.stdout.write(`  ${line}\n`) : undefined });
    results.push(result);
    process.stdout.write(`${fault}: ${((Date.now() - started) / 1000).toFixed(0)} s; ${result.notes.join('; ')}\n`);
  }
  process.stdout.write(`\n${formatTable(results)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
