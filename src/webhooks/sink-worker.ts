import { createHash } from 'node:crypto';
import { TokenBucket } from '../limits/token-bucket';
import type { QueuedDelivery, WebhookQueue, WebhookSinkRecord } from '../store/webhook-store';
import type { Poster } from './http-delivery';
import type { WebhookObserver } from './observer';
import { backoffDelay, outcomeOf, retryAfterMs, type RetrySettings } from './retry-policy';
import { signDelivery } from './signing';

export interface SinkWorkerSettings {
  readonly retry: RetrySettings;
  /** Per-attempt timeout when the sink names none. */
  readonly defaultTimeoutMs: number;
  /** How often an idle worker looks at its queue again (events enqueued on other nodes, claims). */
  readonly pollMs: number;
  /** How often a held batch is marked as still being worked on (below the queue's claim idle time). */
  readonly keepAliveMs: number;
}

export interface SinkWorkerDeps {
  readonly queue: WebhookQueue;
  readonly post: Poster;
  readonly settings: SinkWorkerSettings;
  readonly observer: WebhookObserver;
  /** The receiver answered 410: the sink is to be disabled. */
  readonly gone: (sinkId: string) => Promise<void>;
  readonly logger: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
  readonly now?: () => number;
  readonly random?: () => number;
}

/** What the sink's status shows (GET /api/v1/webhooks/{id}, /readyz). */
export interface SinkHealth {
  /** Failed attempts in a row (0: the last attempt succeeded, or none was made). */
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  readonly lastFailureAt: number | undefined;
  readonly lastSuccessAt: number | undefined;
}

interface Waiter {
  readonly done: () => void;
  /** Arrivals that end the wait early (Infinity: only time or stop). */
  readonly arrivals: number;
}

/**
 * Delivers one sink's queue, head first, one batch in flight: what is delivered is acknowledged, what
 * failed for a reason that may pass is retried as the same batch (same webhook-id) after a backoff,
 * and nothing behind it goes first. That is the ordering promise: per sink, in queue order.
 */
export class SinkWorker {
  private sink: WebhookSinkRecord;
  private stopped = false;
  private running: Promise<void> | undefined;
  private waiter: Waiter | undefined;
  private arrivals = 0;
  private held: QueuedDelivery[] | undefined;
  private bucket: TokenBucket | undefined;
  private readonly cancel = new AbortController();
  private readonly now: () => number;
  private health: SinkHealth = { consecutiveFailures: 0, lastError: undefined, lastFailureAt: undefined, lastSuccessAt: undefined };

  constructor(
    sink: WebhookSinkRecord,
    private readonly deps: SinkWorkerDeps,
  ) {
    this.sink = sink;
    this.now = deps.now ?? Date.now;
    this.bucket = bucketFor(sink, this.now);
  }

  get id(): string {
    return this.sink.id;
  }

  get status(): SinkHealth {
    return this.health;
  }

  /** A changed definition (secrets, batching, rate) applies from the next attempt. */
  update(sink: WebhookSinkRecord): void {
    if (sink.ratePerSecond !== this.sink.ratePerSecond) this.bucket = bucketFor(sink, this.now);
    this.sink = sink;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Events were enqueued for this sink on this node. */
  wake(count = 1): void {
    this.arrivals += count;
    if (this.waiter && this.arrivals >= this.waiter.arrivals) this.waiter.done();
  }

  /**
   * Stops at once: a POST in flight is abandoned and its events stay queued (held by this node's
   * consumer in cluster mode, taken over by another node after the claim idle time; on this node,
   * taken again at the next start).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel.abort();
    this.waiter?.done();
    await this.running;
  }

  private async run(): Promise<void> {
    const { queue, settings } = this.deps;
    while (!this.stopped) {
      try {
        const max = this.sink.batch?.maxEvents ?? 1;
        // Arrivals from here on end an idle wait or fill a gathering batch.
        this.arrivals = 0;
        const batch = this.held ?? (await queue.take(this.sink.id, max));
        if (this.stopped) break;
        if (batch.length === 0) {
          await this.sleep(settings.pollMs, 1);
          continue;
        }
        if (!this.held && (await this.gathering(batch, max))) continue;
        const expired = batch.filter((item) => this.now() - item.enqueuedAt > settings.retry.maxAgeMs);
        if (expired.length > 0) {
          await this.bury(expired, 'expired');
          this.held = this.held?.filter((item) => !expired.includes(item));
          if (this.held?.length === 0) this.held = undefined;
          continue;
        }
        if (this.bucket && !this.bucket.take()) {
          await this.sleepHolding(batch, Math.ceil(1000 / (this.sink.ratePerSecond ?? 1)));
          continue;
        }
        await this.attempt(batch);
      } catch (err) {
        // The queue's store failed (Redis away): the events are still queued; look again later.
        if (this.stopped) break;
        this.deps.logger.error({ err, sink: this.sink.id }, 'webhook queue unavailable');
        await this.sleep(settings.pollMs, Infinity);
      }
    }
  }

  /** Batching: a batch not yet full waits for more events until its oldest is `maxDelayMs` old. */
  private async gathering(batch: readonly QueuedDelivery[], max: number): Promise<boolean> {
    const batching = this.sink.batch;
    if (!batching || batch.length >= max) return false;
    const wait = (batch[0] as QueuedDelivery).enqueuedAt + batching.maxDelayMs - this.now();
    if (wait <= 0) return false;
    await this.sleep(wait, max - batch.length);
    return true;
  }

  private async attempt(batch: QueuedDelivery[]): Promise<void> {
    const { queue, settings, observer } = this.deps;
    const { body, id } = deliveryOf(batch, this.sink.batch !== undefined);
    if (this.held) await queue.keep(this.sink.id, seqsOf(batch));
    const started = this.now();
    const headers = signDelivery(this.sink.secrets, id, new Date(started), body);
    const result = await this.deps.post(this.sink.url, body, headers, this.sink.timeoutMs ?? settings.defaultTimeoutMs, this.cancel.signal);
    // Stopped mid-delivery: the attempt does not count, the events stay queued for whoever takes them.
    if (this.stopped) return;
    const outcome = outcomeOf(result.status);
    observer.attempted(this.sink.id, outcome, batch.length, (this.now() - started) / 1000);
    switch (outcome) {
      case 'delivered':
        await queue.ack(this.sink.id, seqsOf(batch));
        this.held = undefined;
        this.health = { ...this.health, consecutiveFailures: 0, lastSuccessAt: this.now() };
        return;
      case 'rejected':
        this.failed(result.error ?? `HTTP ${result.status}`);
        await this.bury(batch, `rejected ${result.status}`);
        this.held = undefined;
        return;
      case 'gone':
        this.failed('HTTP 410');
        await this.bury(batch, 'gone');
        this.held = undefined;
        this.stopped = true;
        await this.deps.gone(this.sink.id);
        return;
      case 'retry': {
        this.failed(result.error ?? `HTTP ${result.status}`);
        await queue.attempted(this.sink.id, seqsOf(batch));
        const counted = batch.map((item) => ({ ...item, attempts: item.attempts + 1 }));
        const failures = Math.max(...counted.map((item) => item.attempts));
        if (failures >= settings.retry.maxAttempts) {
          await this.bury(counted, 'attempts');
          this.held = undefined;
          return;
        }
        this.held = counted;
        // RFC 9110 §10.2.3: the receiver's Retry-After wins over our schedule, within our longest delay.
        const asked = retryAfterMs(result.retryAfter, this.now());
        const delay = asked !== undefined ? Math.min(asked, settings.retry.maxDelayMs) : backoffDelay(failures, settings.retry, this.deps.random);
        this.deps.logger.warn({ sink: this.sink.id, error: result.error, failures, delayMs: delay }, 'webhook delivery failed; retrying');
        await this.sleepHolding(counted, delay);
        return;
      }
    }
  }

  private failed(error: string): void {
    this.health = { ...this.health, consecutiveFailures: this.health.consecutiveFailures + 1, lastError: error, lastFailureAt: this.now() };
  }

  private async bury(items: readonly QueuedDelivery[], reason: string): Promise<void> {
    await this.deps.queue.bury(this.sink.id, items, reason, this.now());
    this.deps.observer.deadLettered(this.sink.id, reason.split(' ')[0] as string, items.length);
    this.deps.logger.warn({ sink: this.sink.id, reason, events: items.length }, 'webhook events moved to the dead letters');
  }

  /** Waits while holding a batch, telling the queue now and then that it is still being worked on. */
  private async sleepHolding(batch: readonly QueuedDelivery[], ms: number): Promise<void> {
    const until = this.now() + ms;
    for (let left = ms; left > 0 && !this.stopped; left = until - this.now()) {
      await this.sleep(Math.min(left, this.deps.settings.keepAliveMs), Infinity);
      if (!this.stopped && until - this.now() > 0) await this.deps.queue.keep(this.sink.id, seqsOf(batch));
    }
  }

  private sleep(ms: number, arrivals: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.waiter === waiter) this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      const waiter: Waiter = { done, arrivals };
      this.waiter = waiter;
      if (this.arrivals >= arrivals) done();
    });
  }
}

function bucketFor(sink: WebhookSinkRecord, now: () => number): TokenBucket | undefined {
  const rate = sink.ratePerSecond;
  return rate === undefined ? undefined : new TokenBucket(rate, Math.max(1, rate), now);
}

function seqsOf(batch: readonly QueuedDelivery[]): string[] {
  return batch.map((item) => item.seq);
}

/**
 * The body and webhook-id of one POST. Without batching it is the event itself and its id. With
 * batching it is `{"type":"batch","events":[…]}`, its id derived from the events' ids: a retried batch
 * has the same id, and each event inside keeps its own for the receiver's de-duplication.
 */
export function deliveryOf(batch: readonly QueuedDelivery[], batched: boolean): { body: string; id: string } {
  if (!batched && batch.length === 1) {
    const only = batch[0] as QueuedDelivery;
    return { body: only.payload, id: (JSON.parse(only.payload) as { id: string }).id };
  }
  const ids = batch.map((item) => (JSON.parse(item.payload) as { id: string }).id);
  const id = `batch_${createHash('sha256').update(ids.join(',')).digest('base64url').slice(0, 32)}`;
  return { body: `{"type":"batch","events":[${batch.map((item) => item.payload).join(',')}]}`, id };
}
