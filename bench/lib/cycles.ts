// Session cycles for the memory-per-cycle phase: create a BOSH session (XEP-0124 §7.1) and terminate it
// at once (§13), no login, over one keep-alive pool. What a server keeps after many of these is a leak.
import { BoshError, Transport } from './bosh';
import { attr, bodyTag, HTTPBIND_NS } from './xml';

export interface CyclesRun {
  ok: number;
  failed: number;
  seconds: number;
  /** the first failure, for the notes */
  sample: string;
}

function randomRid(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

/** One cycle: session creation, then type='terminate' with the next rid; both must be answered as such. */
async function cycle(t: Transport, domain: string): Promise<void> {
  const rid = randomRid();
  const created = await t.postAsync(
    `<body rid='${rid}' to='${domain}' wait='60' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns='${HTTPBIND_NS}' xmlns:xmpp='urn:xmpp:xbosh'/>`,
  );
  const tag = bodyTag(created);
  const sid = attr(tag, 'sid');
  if (!sid) throw new BoshError(attr(tag, 'condition') ?? 'no-sid', created.slice(0, 300));
  const ended = await t.postAsync(`<body rid='${rid + 1}' sid='${sid}' type='terminate' xmlns='${HTTPBIND_NS}'/>`);
  if (attr(bodyTag(ended), 'type') !== 'terminate') throw new BoshError('not-terminated', ended.slice(0, 300));
}

/** `count` cycles, `concurrency` at a time; failures are counted, not retried. */
export async function runCycles(origin: string, path: string, domain: string, count: number, concurrency: number): Promise<CyclesRun> {
  const t = new Transport(origin, path);
  const run: CyclesRun = { ok: 0, failed: 0, seconds: 0, sample: '' };
  let left = count;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
        while (left > 0) {
          left--;
          try {
            await cycle(t, domain);
            run.ok++;
          } catch (e) {
            run.failed++;
            run.sample ||= e instanceof Error ? e.message : String(e);
          }
        }
      }),
    );
  } finally {
    run.seconds = (performance.now() - started) / 1000;
    await t.close();
  }
  return run;
}
