// Webhooks under load (issue: webhooks): (a) chat at 2,000 messages/s on one node, without a sink and with one sink
// subscribed to message.chat (batching on) posting to a local receiver — chat p99 both ways, every event delivered,
// how old events were when they arrived; (b) the receiver down for a while under 500 messages/s — nothing lost, and
// how long after its return the backlog was delivered. The receiver is an HTTP server in the bench process that
// verifies every signature with the standardwebhooks package, as docs/webhooks.md tells a receiver to.
import * as hdr from 'hdr-histogram-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { FifthExchange } from './bosh';
import type { ChatSetupResult, ChatStepResult } from './protocol';
import { split, type Workers } from './workers';

/** Batching of the bench's sinks: up to 100 events per POST, or what came within 100 ms. */
export const BENCH_BATCH = { max_events: 100, max_delay_ms: 100 };

export interface WebhooksChatStep {
  sink: boolean;
  rate: number;
  seconds: number;
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  /** with a sink: events the receiver got (each id once), POSTs, and each event's age on arrival (receipt − event time) */
  events?: number;
  posts?: number;
  ageP50Ms?: number;
  ageP99Ms?: number;
  ageMaxMs?: number;
  /** the node's webhook_queue_age_seconds gauge, read every 250 ms: its largest reading (ms) */
  gaugeAgeMaxMs?: number;
  deadLetters?: number;
}

export interface WebhooksOutage {
  rate: number;
  downSeconds: number;
  seconds: number;
  sent: number;
  received: number;
  events: number;
  /** events the receiver got more than once (same id: a retried batch whose answer was lost) */
  duplicates: number;
  deadLetters: number;
  /** the largest queue depth the gauge showed */
  maxDepth: number;
  /** events emitted before the receiver came back, and when the last of them arrived after its return */
  backlog: number;
  drainSeconds: number;
  /** refused POSTs during the outage (connection refused) are not seen; POSTs the receiver answered */
  posts: number;
}

export interface WebhooksResult {
  setup: string;
  batch: typeof BENCH_BATCH;
  steps: WebhooksChatStep[];
  /** the better (lower p99) of each kind: interference can only make a step look worse */
  without: WebhooksChatStep;
  withSink: WebhooksChatStep;
  outage: WebhooksOutage;
  signatureFailures: number;
}

export interface WebhooksBenchOptions {
  origin: string;
  apiKey: string;
  workers: Workers;
  /** chat accounts: senders from `from`, receivers after them */
  from: number;
  pairs: number;
  fifth: FifthExchange;
  bodyBytes: number;
  drainMs: number;
  rate: number;
  stepMs: number;
  outageRate: number;
  outageMs: number;
  log: (s: string) => void;
}

interface Arrival {
  /** the event's `time` (ms since the epoch) */
  time: number;
  /** when the receiver first got it */
  at: number;
  count: number;
}

/** The business system's side: records each event's first arrival per sink path, and verifies every signature. */
class Receiver {
  readonly arrivals = new Map<string, Map<string, Arrival>>();
  readonly posts = new Map<string, number>();
  signatureFailures = 0;
  private server: Server | undefined;
  private port = 0;
  private secrets = new Map<string, Webhook>();

  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path}`;
  }

  expect(path: string, secret: string): void {
    this.secrets.set(path, new Webhook(secret));
    this.arrivals.set(path, new Map());
    this.posts.set(path, 0);
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        const path = (req.url ?? '/').slice(1);
        const body = Buffer.concat(chunks).toString('utf8');
        const verifier = this.secrets.get(path);
        const seen = this.arrivals.get(path);
        try {
          if (!verifier || !seen) throw new Error('unknown sink');
          verifier.verify(body, req.headers as Record<string, string>);
        } catch {
          this.signatureFailures += 1;
          res.statusCode = 400;
          res.end();
          return;
        }
        this.posts.set(path, (this.posts.get(path) ?? 0) + 1);
        const parsed = JSON.parse(body) as { type: string; id: string; time: string; events?: { id: string; time: string }[] };
        for (const event of parsed.type === 'batch' ? (parsed.events ?? []) : [parsed]) {
          const known = seen.get(event.id);
          if (known) known.count += 1;
          else seen.set(event.id, { time: Date.parse(event.time), at, count: 1 });
        }
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: the port refuses connections (kept-alive ones are closed too). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  count(path: string): number {
    return this.arrivals.get(path)?.size ?? 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function merge(encoded: string[]): hdr.Histogram {
  const h = hdr.build({ numberOfSignificantValueDigits: 3 });
  for (const e of encoded) h.add(hdr.decodeFromCompressedBase64(e));
  return h;
}

export async function runWebhooksBench(o: WebhooksBenchOptions): Promise<WebhooksResult> {
  const { workers, log } = o;
  const api = async (method: string, path: string, body?: object): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${o.origin}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${o.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const receiver = new Receiver();
  await receiver.up();
  let sinkId: string | undefined;
  const createSink = async (path: string): Promise<string> => {
    const { status, json } = await api('POST', '/webhooks', { url: receiver.url(path), events: ['message.chat'], batch: BENCH_BATCH });
    if (status !== 201) throw new Error(`POST /webhooks: ${status} ${JSON.stringify(json)}`);
    receiver.expect(path, json.secret as string);
    return json.id as string;
  };
  const deadLetters = async (id: string): Promise<number> => {
    const { json } = await api('GET', `/webhooks/${id}/dead-letters?limit=1000`);
    return ((json.dead_letters ?? json.items ?? []) as unknown[]).length;
  };
  // The node's own view of its queue, sampled while a step runs.
  const gauges = { ageMax: 0, depthMax: 0 };
  let sampling = false;
  const sample = async (): Promise<void> => {
    while (sampling) {
      const text = await fetch(`${o.origin}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
      for (const m of text.matchAll(/^webhook_queue_age_seconds\{[^}]*\} ([\d.e+-]+)$/gm)) gauges.ageMax = Math.max(gauges.ageMax, Number(m[1]) * 1000);
      for (const m of text.matchAll(/^webhook_queue_depth\{[^}]*\} ([\d.e+-]+)$/gm)) gauges.depthMax = Math.max(gauges.depthMax, Number(m[1]));
      await sleep(250);
    }
  };
  const chat = async (rate: number, durationMs: number): Promise<ChatStepResult[]> => {
    const per = split(0, Math.round(rate), workers.size).map((r) => r.count);
    return workers.all<ChatStepResult>((i) => ({ type: 'chatStep', rate: per[i] as number, durationMs, drainMs: o.drainMs, bodyBytes: o.bodyBytes }));
  };
  /** Waits (bounded) until the receiver has `expected` events on `path`, or nothing new came for `quietMs`. */
  const settle = async (path: string, expected: number, limitMs: number, quietMs = 15_000): Promise<void> => {
    const until = performance.now() + limitMs;
    let last = receiver.count(path);
    let lastChange = performance.now();
    while (receiver.count(path) < expected && performance.now() < until && performance.now() - lastChange < quietMs) {
      await sleep(100);
      if (receiver.count(path) !== last) {
        last = receiver.count(path);
        lastChange = performance.now();
      }
    }
  };

  try {
    const sr = split(o.from, o.pairs, workers.size);
    const rr = split(o.from + o.pairs, o.pairs, workers.size);
    const setups = await workers.all<ChatSetupResult>((i) => ({
      type: 'chatSetup',
      senders: sr[i] as { from: number; count: number },
      receivers: rr[i] as { from: number; count: number },
      concurrency: 32,
      fifth: o.fifth,
    }));
    const failed = setups.reduce((a, s) => a + s.senders.fail + s.receivers.fail, 0);
    const setup = `${o.pairs} senders → ${o.pairs} receivers (${failed} logins failed), message body ${o.bodyBytes} bytes`;
    log(`webhooks: ${setup}`);
    // warm-up with a sink, so that the delivery path (SQLite queue, fetch pool) is warm too; not reported
    sinkId = await createSink('warmup');
    await chat(Math.min(o.rate, 1_000), 2_000);
    await api('DELETE', `/webhooks/${sinkId}`);
    sinkId = undefined;

    // (a) the same rate without and with a sink, twice over, alternating
    const steps: WebhooksChatStep[] = [];
    for (const [k, withSink] of [false, true, false, true].entries()) {
      const path = `chat${k}`;
      if (withSink) sinkId = await createSink(path);
      gauges.ageMax = 0;
      sampling = withSink;
      const sampler = withSink ? sample() : Promise.resolve();
      const rs = await chat(o.rate, o.stepMs);
      const sent = rs.reduce((a, r) => a + r.sent, 0);
      const h = merge(rs.map((r) => r.histSend));
      const step: WebhooksChatStep = {
        sink: withSink,
        rate: o.rate,
        seconds: o.stepMs / 1000,
        sent,
        received: rs.reduce((a, r) => a + r.received, 0),
        p50Ms: h.totalCount ? h.getValueAtPercentile(50) / 1000 : NaN,
        p99Ms: h.totalCount ? h.getValueAtPercentile(99) / 1000 : NaN,
      };
      if (withSink && sinkId) {
        await settle(path, sent, 30_000);
        sampling = false;
        await sampler;
        const arrivals = [...(receiver.arrivals.get(path) ?? new Map<string, Arrival>()).values()];
        const ages = arrivals.map((a) => a.at - a.time).sort((x, y) => x - y);
        step.events = arrivals.length;
        step.posts = receiver.posts.get(path) ?? 0;
        step.ageP50Ms = quantile(ages, 0.5);
        step.ageP99Ms = quantile(ages, 0.99);
        step.ageMaxMs = ages[ages.length - 1] ?? NaN;
        step.gaugeAgeMaxMs = gauges.ageMax;
        step.deadLetters = await deadLetters(sinkId);
        await api('DELETE', `/webhooks/${sinkId}`);
        sinkId = undefined;
      }
      log(
        `webhooks: ${o.rate} msg/s for ${step.seconds} s ${withSink ? 'with' : 'without'} a sink: ${step.received}/${step.sent} received, chat p50 ${step.p50Ms.toFixed(2)} p99 ${step.p99Ms.toFixed(2)} ms` +
          (withSink
            ? `; ${step.events}/${step.sent} events delivered in ${step.posts} POSTs, age on arrival p50 ${step.ageP50Ms?.toFixed(0)} p99 ${step.ageP99Ms?.toFixed(0)} max ${step.ageMaxMs?.toFixed(0)} ms (gauge max ${step.gaugeAgeMaxMs?.toFixed(0)} ms), ${step.deadLetters} dead letters`
            : ''),
      );
      steps.push(step);
      await sleep(500);
    }
    const best = (rows: WebhooksChatStep[]): WebhooksChatStep => [...rows].sort((a, b) => a.p99Ms - b.p99Ms)[0] as WebhooksChatStep;
    const without = best(steps.filter((s) => !s.sink));
    const withSink = best(steps.filter((s) => s.sink));

    // (b) the receiver goes down for outageMs under outageRate, then comes back while the load goes on
    const path = 'outage';
    sinkId = await createSink(path);
    const leadMs = 5_000;
    const tailMs = Math.max(15_000, Math.min(45_000, o.outageMs));
    const durationMs = leadMs + o.outageMs + tailMs;
    gauges.depthMax = 0;
    sampling = true;
    const sampler = sample();
    let returnedAt = 0;
    const outage = (async () => {
      await sleep(leadMs);
      await receiver.down();
      log(`webhooks: receiver down for ${o.outageMs / 1000} s under ${o.outageRate} msg/s`);
      await sleep(o.outageMs);
      await receiver.up();
      returnedAt = Date.now();
      log('webhooks: receiver back');
    })();
    const rs = await chat(o.outageRate, durationMs);
    await outage;
    const sent = rs.reduce((a, r) => a + r.sent, 0);
    await settle(path, sent, 120_000, 30_000);
    sampling = false;
    await sampler;
    const arrivals = [...(receiver.arrivals.get(path) ?? new Map<string, Arrival>()).values()];
    const backlog = arrivals.filter((a) => a.time < returnedAt);
    const lastBacklog = Math.max(...backlog.map((a) => a.at));
    const result: WebhooksOutage = {
      rate: o.outageRate,
      downSeconds: o.outageMs / 1000,
      seconds: durationMs / 1000,
      sent,
      received: rs.reduce((a, r) => a + r.received, 0),
      events: arrivals.length,
      duplicates: arrivals.reduce((a, x) => a + x.count - 1, 0),
      deadLetters: await deadLetters(sinkId),
      maxDepth: gauges.depthMax,
      backlog: backlog.length,
      drainSeconds: backlog.length ? (lastBacklog - returnedAt) / 1000 : NaN,
      posts: receiver.posts.get(path) ?? 0,
    };
    log(
      `webhooks: outage ${result.downSeconds} s under ${result.rate} msg/s: ${result.events}/${result.sent} events delivered (${result.duplicates} twice, ${result.deadLetters} dead letters), ` +
        `queue depth up to ${result.maxDepth}; the ${result.backlog} events emitted before the receiver returned were delivered within ${result.drainSeconds.toFixed(1)} s of its return`,
    );
    return { setup, batch: BENCH_BATCH, steps, without, withSink, outage: result, signatureFailures: receiver.signatureFailures };
  } finally {
    sampling = false;
    if (sinkId) await api('DELETE', `/webhooks/${sinkId}`).catch(() => undefined);
    await receiver.down();
    await workers.all(() => ({ type: 'reset' }));
  }
}
