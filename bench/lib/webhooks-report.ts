// The webhooks figures: their section of docs/performance.md (between markers, so runs without the webhooks phase
// keep it as it is).
import { keptSection, spliceSection } from './doc-section';
import type { WebhooksResult } from './webhooks';

export const WEBHOOKS_START = "<!-- webhooks:start (written by the bench's webhooks phase; runs without it keep this section) -->";
export const WEBHOOKS_END = '<!-- webhooks:end -->';

/** Targets (issue: webhooks): chat p99 with a sink within 20 % of without, age p99 ≤ 1 s; the backlog drained ≤ 60 s after the receiver returns. */
export const WEBHOOKS_TARGETS = { p99Ratio: 1.2, ageP99Ms: 1_000, drainSeconds: 60 };

const f = (n: number | undefined, digits = 1): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const met = (ok: boolean): string => (ok ? 'yes' : '**no**');

/** `busy`: % of the machine other processes used just before the phase (figures are worse when it is high). */
export function renderWebhooksSection(r: WebhooksResult, when: string, command: string, busy?: number): string {
  const { without: a, withSink: b, outage: o } = r;
  const ratio = b.p99Ms / a.p99Ms;
  const sinkSteps = r.steps.filter((s) => s.sink);
  const allDelivered = sinkSteps.every((s) => s.events === s.sent && s.deadLetters === 0);
  const ageP99 = Math.max(...sinkSteps.map((s) => s.ageP99Ms ?? NaN));
  const nothingLost = o.events === o.sent && o.deadLetters === 0;
  const stepText = r.steps.map((s) => `${s.sink ? 'with' : 'without'} ${f(s.p99Ms, 2)}`).join(', ');
  return [
    WEBHOOKS_START,
    '## Webhooks: chat with a sink, and a receiver outage',
    '',
    `Measured ${when} with \`${command}\`, one node (a server process of its own, SQLite store: the queue is a table of it),`,
    `${r.setup}. One sink subscribed to \`message.chat\` with batching (\`max_events\` ${r.batch.max_events}, \`max_delay_ms\``,
    `${r.batch.max_delay_ms}), made through \`POST /api/v1/webhooks\`, posting to a receiver in the bench process that verifies`,
    `every signature with the \`standardwebhooks\` package (${r.signatureFailures} failed). Steps without and with the sink alternate on the`,
    `same sessions (${stepText} ms p99); the better of each kind is compared, since other processes can only make a step worse.`,
    ...(busy !== undefined && busy > 25
      ? ['', `**The machine was ${busy.toFixed(0)}% busy with other processes before this phase: the figures are worse than an idle machine gives.**`]
      : []),
    '',
    '| figure | result | target | met |',
    '|---|---|---|---|',
    `| ${a.rate} chat messages/s for ${a.seconds} s, chat latency p50 / p99 without a sink | ${f(a.p50Ms, 2)} / ${f(a.p99Ms, 2)} ms | — | — |`,
    `| the same with the sink | ${f(b.p50Ms, 2)} / ${f(b.p99Ms, 2)} ms (p99 × ${f(ratio, 2)}) | p99 ≤ × ${WEBHOOKS_TARGETS.p99Ratio} | ${met(ratio <= WEBHOOKS_TARGETS.p99Ratio)} |`,
    `| events delivered (each id once) of messages sent, dead letters | ${sinkSteps.map((s) => `${s.events}/${s.sent} in ${s.posts} POSTs, ${s.deadLetters}`).join('; ')} | all, 0 | ${met(allDelivered)} |`,
    `| an event's age when the receiver got it (receipt − event \`time\`), p50 / p99 / max | ${sinkSteps.map((s) => `${f(s.ageP50Ms, 0)} / ${f(s.ageP99Ms, 0)} / ${f(s.ageMaxMs, 0)} ms`).join('; ')} (\`webhook_queue_age_seconds\` read every 250 ms: at most ${sinkSteps.map((s) => f(s.gaugeAgeMaxMs, 0)).join(', ')} ms) | p99 ≤ ${WEBHOOKS_TARGETS.ageP99Ms} ms | ${met(ageP99 <= WEBHOOKS_TARGETS.ageP99Ms)} |`,
    `| receiver down ${o.downSeconds} s under ${o.rate} messages/s (${o.seconds} s in all): events delivered of messages sent, twice, dead letters | ${o.events}/${o.sent}, ${o.duplicates} twice, ${o.deadLetters} dead letters (queue depth up to ${o.maxDepth}) | nothing lost | ${met(nothingLost)} |`,
    `| the same: the ${o.backlog} events emitted before the receiver returned, all delivered after its return within | ${f(o.drainSeconds)} s | ≤ ${WEBHOOKS_TARGETS.drainSeconds} s | ${met(o.drainSeconds <= WEBHOOKS_TARGETS.drainSeconds)} |`,
    '',
    'An event’s age counts from the hub event (`time`) to its receipt: the queue write, the batch’s gathering (up to',
    '`max_delay_ms`), the POST and the receiver’s verification. During the outage the sink’s worker retries its head batch',
    'on the default schedule (`WEBHOOK_RETRY_BASE_MS`, doubling, half random, up to `WEBHOOK_RETRY_MAX_DELAY_MS`), so the',
    'backlog starts moving at the first retry after the receiver is back; the drain time is that wait plus sending the',
    'backlog in batches. `--webhooks-outage-s=N` shortens the outage for quick runs.',
    WEBHOOKS_END,
  ].join('\n');
}

export function keptWebhooksSection(existing: string): string {
  return keptSection(existing, WEBHOOKS_START, WEBHOOKS_END);
}

export function spliceWebhooksSection(existing: string, section: string): string {
  return spliceSection(existing, section, WEBHOOKS_START, WEBHOOKS_END, ['## Generator or server', '## How to run']);
}
