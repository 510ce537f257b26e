import { randomBytes } from 'node:crypto';
import type { GatewayEventHub, GatewayEvents } from '../events';
import type { DeadLetter, EnqueueEntry, WebhookSinkRecord, WebhookStores } from '../store/webhook-store';
import type { WebhookEventType } from './event-types';
import { fetchPoster, type Poster } from './http-delivery';
import { HUB_SOURCES, webhookEventOf } from './hub-events';
import { NO_WEBHOOK_OBSERVER, type WebhookObserver } from './observer';
import { sinkRecordOf, viewOf, type SinkInput, type SinkView } from './sink-definition';
import { passesFilter } from './sink-filter';
import { SinkWorker, type SinkHealth, type SinkWorkerSettings } from './sink-worker';
import { WebhookError } from './webhook-error';

export interface WebhookSettings extends SinkWorkerSettings {
  /** Sinks at most (file and API together). */
  readonly maxSinks: number;
  /** How often the sink list is read again from the store (sinks created or deleted on other nodes). */
  readonly refreshMs: number;
  /** Events held in memory while the queue's store is unreachable; beyond it, new events are dropped and counted. */
  readonly bufferMax: number;
  /**
   * Events are written to the queue at most this often (WEBHOOK_COMMIT_MS), all of that time in one
   * transaction or pipeline: a commit costs far more than a row (SQLite: about 75 µs a commit against 3 µs
   * a row). 0: once per turn of the event loop. A crash loses at most this long's events.
   */
  readonly commitMs?: number;
}

export interface WebhookServiceOptions {
  readonly stores: WebhookStores;
  /** WEBHOOKS_FILE's sinks: read-only. */
  readonly fileSinks: readonly WebhookSinkRecord[];
  readonly events: GatewayEventHub;
  /** The XMPP domain (a chat message from the domain itself is a server notice, not a conversation). */
  readonly domain: string;
  readonly settings: WebhookSettings;
  readonly logger: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
  readonly post?: Poster;
  readonly observer?: WebhookObserver;
  readonly now?: () => number;
}

/** A sink with how its deliveries go. */
export interface SinkStatus extends SinkView {
  readonly health: {
    readonly failing: boolean;
    readonly consecutive_failures: number;
    readonly last_error: string | null;
    readonly last_failure_at: string | null;
    readonly last_success_at: string | null;
  };
}

export interface QueueFigures {
  readonly sinkId: string;
  readonly depth: number;
  /** Seconds the oldest waiting event has waited (0 when none waits). */
  readonly ageSeconds: number;
}

/**
 * Webhooks on one node: subscribes to the event hub for the event types some sink wants, turns each
 * event into a webhook event, queues it durably for every sink it passes (type and filter), and runs
 * one worker per sink that delivers the queue. Nothing here runs in a stanza's path: the hub calls us
 * after routing has moved on, and queueing is one write per turn of the event loop.
 */
export class WebhookService {
  private readonly sinks = new Map<string, { record: WebhookSinkRecord; source: 'api' | 'file' }>();
  private readonly workers = new Map<string, SinkWorker>();
  private readonly subscriptions = new Map<string, () => void>();
  private readonly fileDisabled = new Map<string, WebhookSinkRecord['disabled']>();
  private pending: EnqueueEntry[] = [];
  private flushing: Promise<void> | undefined;
  private endWindow: (() => void) | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly observer: WebhookObserver;

  constructor(private readonly options: WebhookServiceOptions) {
    this.now = options.now ?? Date.now;
    this.observer = options.observer ?? NO_WEBHOOK_OBSERVER;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.options.logger.error({ err }, 'webhook sinks could not be read'));
    }, this.options.settings.refreshMs);
    this.refreshTimer.unref();
  }

  /** Stops taking events, writes what was taken, and stops the workers (an in-flight POST is abandoned). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
    await this.refreshing;
    this.endWindow?.();
    await this.flushing;
    await this.flush();
    await Promise.all([...this.workers.values()].map((worker) => worker.stop()));
    this.workers.clear();
  }

  async create(input: SinkInput): Promise<{ sink: SinkStatus; secret: string }> {
    if (this.sinks.size >= this.options.settings.maxSinks)
      throw new WebhookError('too_many', `at most ${this.options.settings.maxSinks} sinks (WEBHOOK_MAX_SINKS)`);
    const id = `wh_${randomBytes(12).toString('base64url')}`;
    const { record, secret } = sinkRecordOf({ ...input, secrets: undefined }, id, this.now());
    await this.options.stores.sinks.put(record);
    await this.refresh();
    return { sink: this.statusOf(id), secret };
  }

  list(): SinkStatus[] {
    return [...this.sinks.keys()].map((id) => this.statusOf(id));
  }

  async get(id: string): Promise<SinkStatus> {
    if (!this.sinks.has(id)) await this.refresh();
    return this.statusOf(id);
  }

  async delete(id: string): Promise<void> {
    if (!this.sinks.has(id)) await this.refresh();
    const sink = this.known(id);
    if (sink.source === 'file') throw new WebhookError('read_only', 'this sink comes from WEBHOOKS_FILE; remove it there', 'id');
    await this.options.stores.sinks.delete(id);
    await this.retire(id);
    await this.options.stores.queue.purge(id);
  }

  async deadLetters(id: string, limit: number): Promise<DeadLetter[]> {
    if (!this.sinks.has(id)) await this.refresh();
    this.known(id);
    return this.options.stores.queue.deadLetters(id, limit);
  }

  /** Dead letters back to the queue's tail; a sink disabled by a 410 is enabled again. */
  async replay(id: string): Promise<number> {
    if (!this.sinks.has(id)) await this.refresh();
    const sink = this.known(id);
    if (sink.record.disabled) await this.setDisabled(sink, undefined);
    const count = await this.options.stores.queue.replay(id, this.now());
    await this.refresh();
    this.workers.get(id)?.wake(count);
    return count;
  }

  /** Queue depth and age per sink (metrics); at most `limit` sinks, the deepest first. */
  async queueFigures(limit: number): Promise<QueueFigures[]> {
    const now = this.now();
    const figures = await Promise.all(
      [...this.sinks.keys()].map(async (sinkId) => {
        const stats = await this.options.stores.queue.stats(sinkId);
        return { sinkId, depth: stats.depth, ageSeconds: stats.oldestAt === undefined ? 0 : Math.max(0, (now - stats.oldestAt) / 1000) };
      }),
    );
    return figures.sort((a, b) => b.depth - a.depth || a.sinkId.localeCompare(b.sinkId)).slice(0, limit);
  }

  /** Sinks whose last attempt failed, or that a 410 disabled (readiness detail: reported, never fatal). */
  failing(): { id: string; consecutive_failures: number; last_error: string | null; disabled: boolean }[] {
    return this.list()
      .filter((sink) => sink.health.failing || sink.disabled !== null)
      .map((sink) => ({
        id: sink.id,
        consecutive_failures: sink.health.consecutive_failures,
        last_error: sink.health.last_error,
        disabled: sink.disabled !== null,
      }));
  }

  /** Reads the sinks again and brings workers and hub subscriptions in line with them. */
  refresh(): Promise<void> {
    this.refreshing ??= this.reconcile().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async reconcile(): Promise<void> {
    const stored = await this.options.stores.sinks.list();
    if (this.stopped) return;
    const next = new Map<string, { record: WebhookSinkRecord; source: 'api' | 'file' }>();
    for (const record of this.options.fileSinks) next.set(record.id, { record: { ...record, disabled: this.fileDisabled.get(record.id) }, source: 'file' });
    for (const record of stored) if (!next.has(record.id)) next.set(record.id, { record, source: 'api' });
    for (const id of [...this.sinks.keys()]) if (!next.has(id)) await this.retire(id);
    for (const [id, sink] of next) {
      this.sinks.set(id, sink);
      const worker = this.workers.get(id);
      if (sink.record.disabled) {
        if (worker) await this.retire(id, false);
      } else if (worker) {
        worker.update(sink.record);
      } else {
        const created = new SinkWorker(sink.record, {
          queue: this.options.stores.queue,
          post: this.options.post ?? fetchPoster,
          settings: this.options.settings,
          observer: this.observer,
          gone: (sinkId) => this.onGone(sinkId),
          logger: this.options.logger,
          now: this.now,
        });
        this.workers.set(id, created);
        created.start();
      }
    }
    this.subscribe();
  }

  /** Subscribes to exactly the hub events some enabled sink wants: nobody wanting messages costs routing nothing. */
  private subscribe(): void {
    const wanted = new Set<WebhookEventType>();
    for (const { record } of this.sinks.values()) if (!record.disabled) for (const type of record.events) wanted.add(type as WebhookEventType);
    for (const [source, types] of Object.entries(HUB_SOURCES)) {
      const needed = types.some((type) => wanted.has(type));
      const subscribed = this.subscriptions.get(source);
      if (needed && !subscribed) {
        const event = source as keyof GatewayEvents;
        this.subscriptions.set(
          source,
          this.options.events.on(event, (payload: unknown) => this.take(source, payload)),
        );
      } else if (!needed && subscribed) {
        subscribed();
        this.subscriptions.delete(source);
      }
    }
  }

  private take(source: string, payload: unknown): void {
    if (this.stopped) return;
    const event = webhookEventOf(source, payload, this.options.domain);
    if (!event) return;
    let json: string | undefined;
    for (const { record } of this.sinks.values()) {
      if (record.disabled || !record.events.includes(event.type) || !passesFilter(record.filter, event)) continue;
      json ??= JSON.stringify(event);
      if (this.pending.length >= this.options.settings.bufferMax) {
        this.observer.deadLettered(record.id, 'overflow', 1);
        continue;
      }
      this.pending.push({ sinkId: record.id, payload: json });
    }
    this.schedule();
  }

  /** One write per WEBHOOK_COMMIT_MS (or per turn of the event loop): the events of that time go together. */
  private schedule(): void {
    if (this.flushing || this.pending.length === 0 || this.stopped) return;
    const commitMs = this.options.settings.commitMs ?? 0;
    this.flushing = new Promise<void>((resolve) => {
      if (commitMs === 0) return void setImmediate(resolve);
      // stop() ends the window early: what waits is written at once.
      const timer = setTimeout(() => this.endWindow?.(), commitMs);
      this.endWindow = () => {
        clearTimeout(timer);
        this.endWindow = undefined;
        resolve();
      };
    })
      .then(() => this.flush())
      .finally(() => {
        this.flushing = undefined;
        this.schedule();
      });
  }

  /** Writes what was queued in one transaction (SQLite) or one pipeline (Redis), then wakes the workers. */
  private async flush(): Promise<void> {
    const entries = this.pending;
    this.pending = [];
    if (entries.length === 0) return;
    try {
      await this.options.stores.queue.enqueue(entries, this.now());
      this.observer.enqueued(entries.length);
      const counts = new Map<string, number>();
      for (const { sinkId } of entries) counts.set(sinkId, (counts.get(sinkId) ?? 0) + 1);
      for (const [sinkId, count] of counts) this.workers.get(sinkId)?.wake(count);
    } catch (err) {
      // The store is away (Redis down): the events wait in memory, bounded, and are written again shortly.
      this.options.logger.error({ err, events: entries.length }, 'webhook events could not be queued; retrying');
      this.pending = [...entries, ...this.pending].slice(0, this.options.settings.bufferMax);
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, this.options.settings.pollMs));
    }
  }

  private async onGone(sinkId: string): Promise<void> {
    const sink = this.sinks.get(sinkId);
    if (!sink) return;
    this.options.logger.warn({ sink: sinkId }, 'webhook receiver answered 410 Gone; the sink is disabled');
    await this.setDisabled(sink, { at: this.now(), reason: 'gone (HTTP 410)' });
    this.workers.delete(sinkId);
    await this.refresh();
  }

  private async setDisabled(sink: { record: WebhookSinkRecord; source: 'api' | 'file' }, disabled: WebhookSinkRecord['disabled']): Promise<void> {
    const record = { ...sink.record, disabled };
    // A file's sinks are not stored: their disabled state lasts until the process restarts.
    if (sink.source === 'file') this.fileDisabled.set(record.id, disabled);
    else await this.options.stores.sinks.put(record);
    this.sinks.set(record.id, { ...sink, record });
  }

  private async retire(id: string, forget = true): Promise<void> {
    const worker = this.workers.get(id);
    this.workers.delete(id);
    if (forget) this.sinks.delete(id);
    await worker?.stop();
  }

  private known(id: string): { record: WebhookSinkRecord; source: 'api' | 'file' } {
    const sink = this.sinks.get(id);
    if (!sink) throw new WebhookError('not_found', `no webhook sink '${id}'`, 'id');
    return sink;
  }

  private statusOf(id: string): SinkStatus {
    const sink = this.known(id);
    const health: SinkHealth = this.workers.get(id)?.status ?? {
      consecutiveFailures: 0,
      lastError: undefined,
      lastFailureAt: undefined,
      lastSuccessAt: undefined,
    };
    const iso = (at: number | undefined): string | null => (at === undefined ? null : new Date(at).toISOString());
    return {
      ...viewOf(sink.record, sink.source),
      health: {
        failing: health.consecutiveFailures > 0,
        consecutive_failures: health.consecutiveFailures,
        last_error: health.lastError ?? null,
        last_failure_at: iso(health.lastFailureAt),
        last_success_at: iso(health.lastSuccessAt),
      },
    };
  }
}
