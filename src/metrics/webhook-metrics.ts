import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptOutcome, QueueFigures, WebhookObserver } from '../webhooks';

/** A sink whose last attempt failed, or that a 410 disabled (WebhookService.failing()). */
export interface FailingSink {
  readonly id: string;
  readonly consecutive_failures: number;
  readonly disabled: boolean;
}

/**
 * Webhook delivery in Prometheus terms. Queue depth and age are read at scrape time for at most
 * `maxSinks` sinks (the deepest queues), so the `sink` label stays bounded however many sinks exist;
 * the counters are labelled by outcome or reason only.
 */
export class WebhookMetrics implements WebhookObserver {
  private readonly enqueuedTotal: Counter;
  private readonly attempts: Counter<'outcome'>;
  private readonly events: Counter<'outcome'>;
  private readonly dead: Counter<'reason'>;
  private readonly latency: Histogram<'outcome'>;

  constructor(registry: Registry, figures: (limit: number) => Promise<QueueFigures[]>, maxSinks: number, failing: () => readonly FailingSink[] = () => []) {
    const registers = [registry];
    this.enqueuedTotal = new Counter({ name: 'webhook_events_enqueued_total', help: 'Events put on webhook sinks queues (one per sink)', registers });
    this.attempts = new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook POSTs by outcome (delivered, retry, rejected, gone)',
      labelNames: ['outcome'],
      registers,
    });
    this.events = new Counter({
      name: 'webhook_delivery_events_total',
      help: 'Events carried by webhook POSTs, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.dead = new Counter({
      name: 'webhook_dead_letters_total',
      help: 'Events given up, by reason (attempts, expired, rejected, gone, overflow)',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'webhook_delivery_duration_seconds',
      help: 'Time from sending a webhook POST to its answer (or failure)',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    // One read of the queues per scrape serves both gauges.
    let pending: Promise<QueueFigures[]> | undefined;
    const read = (): Promise<QueueFigures[]> => {
      pending ??= figures(maxSinks).finally(() => {
        pending = undefined;
      });
      return pending;
    };
    const fill = async (gauge: Gauge<'sink'>, pick: (figure: QueueFigures) => number): Promise<void> => {
      const current = await read().catch((): QueueFigures[] => []);
      gauge.reset();
      for (const figure of current) gauge.set({ sink: figure.sinkId }, pick(figure));
    };
    new Gauge({
      name: 'webhook_queue_depth',
      help: 'Events waiting per webhook sink (the deepest sinks only)',
      labelNames: ['sink'],
      registers,
      collect() {
        return fill(this, (figure) => figure.depth);
      },
    });
    new Gauge({
      name: 'webhook_queue_age_seconds',
      help: 'Age of the oldest waiting event per webhook sink',
      labelNames: ['sink'],
      registers,
      collect() {
        return fill(this, (figure) => figure.ageSeconds);
      },
    });
    // What /readyz lists, for dashboards and alerts: how many sinks fail, and the failures in a row of the worst.
    new Gauge({
      name: 'webhook_sinks_failing',
      help: 'Webhook sinks whose last attempt failed, or that a 410 disabled',
      labelNames: ['state'],
      registers,
      collect() {
        const now = failing();
        this.reset();
        this.set({ state: 'failing' }, now.filter((sink) => !sink.disabled).length);
        this.set({ state: 'disabled' }, now.filter((sink) => sink.disabled).length);
      },
    });
    new Gauge({
      name: 'webhook_sink_consecutive_failures',
      help: 'Failed attempts in a row per failing webhook sink (the worst sinks only)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        const worst = [...failing()].sort((a, b) => b.consecutive_failures - a.consecutive_failures).slice(0, maxSinks);
        for (const sink of worst) this.set({ sink: sink.id }, sink.consecutive_failures);
      },
    });
  }

  enqueued(events: number): void {
    this.enqueuedTotal.inc(events);
  }

  attempted(_sinkId: string, outcome: AttemptOutcome, events: number, seconds: number): void {
    this.attempts.inc({ outcome });
    this.events.inc({ outcome }, events);
    this.latency.observe({ outcome }, seconds);
  }

  deadLettered(_sinkId: string, reason: string, events: number): void {
    this.dead.inc({ reason }, events);
  }
}
