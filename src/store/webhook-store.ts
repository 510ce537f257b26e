/**
 * Where webhook sinks and their delivery queues live (src/webhooks/ delivers; this layer only keeps).
 * Three backends, as for every store: memory (tests), SQLite (the embedded default: the queue survives a
 * restart) and Redis (cluster mode: one stream per sink read through a consumer group, so each event is
 * taken by one node and taken over by another when that node dies).
 */

/** A sink as stored: what the API and WEBHOOKS_FILE describe, plus its state. */
export interface WebhookSinkRecord {
  readonly id: string;
  readonly url: string;
  /** Event type names (src/webhooks/event-types.ts). */
  readonly events: readonly string[];
  /** Signing secrets, newest first: every one signs (Standard Webhooks: several signatures during rotation). */
  readonly secrets: readonly string[];
  readonly batch: { readonly maxEvents: number; readonly maxDelayMs: number } | undefined;
  readonly ratePerSecond: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly filter: WebhookFilterRecord | undefined;
  readonly createdAt: number;
  /** Set when the receiver answered 410 Gone: nothing is queued or sent until a replay. */
  readonly disabled: { readonly at: number; readonly reason: string } | undefined;
}

export interface WebhookFilterRecord {
  readonly fromDomains?: readonly string[];
  readonly toDomains?: readonly string[];
  readonly rooms?: readonly string[];
}

/** The sinks created over the API (WEBHOOKS_FILE's are read-only and never stored). */
export interface WebhookSinkStore {
  put(sink: WebhookSinkRecord): Promise<void>;
  get(id: string): Promise<WebhookSinkRecord | undefined>;
  list(): Promise<WebhookSinkRecord[]>;
  /** Whether there was such a sink. */
  delete(id: string): Promise<boolean>;
}

/** One event waiting for one sink. */
export interface QueuedDelivery {
  /** Position in the sink's queue: increasing in enqueue order (a Redis stream id in cluster mode). */
  readonly seq: string;
  /** The event as JSON, exactly as it will be posted. */
  readonly payload: string;
  readonly enqueuedAt: number;
  /** Failed attempts so far. */
  readonly attempts: number;
}

export interface DeadLetter extends QueuedDelivery {
  readonly failedAt: number;
  /** Why it was given up: 'attempts', 'expired', 'rejected 400', 'gone', … */
  readonly reason: string;
}

export interface QueueStats {
  /** Events waiting (including the batch being delivered). */
  readonly depth: number;
  /** When the oldest waiting event was enqueued; undefined when none waits. */
  readonly oldestAt: number | undefined;
}

export interface EnqueueEntry {
  readonly sinkId: string;
  readonly payload: string;
}

/**
 * Per-sink FIFO queues and dead-letter lists. One consumer (`consumer`, the node id) works a sink's head
 * batch at a time; `take` returns first what this consumer already holds (a batch being retried, or one
 * it held before a restart), then what a consumer that went quiet for `claimIdleMs` held (Redis), then new events.
 */
export interface WebhookQueue {
  enqueue(entries: readonly EnqueueEntry[], at: number): Promise<void>;
  take(sinkId: string, max: number): Promise<QueuedDelivery[]>;
  /** This consumer is still working on these (Redis: resets their idle time, so nobody claims them). */
  keep(sinkId: string, seqs: readonly string[]): Promise<void>;
  /** One more failed attempt on each. */
  attempted(sinkId: string, seqs: readonly string[]): Promise<void>;
  /** Delivered: off the queue. */
  ack(sinkId: string, seqs: readonly string[]): Promise<void>;
  /** Given up: off the queue, onto the sink's dead-letter list. */
  bury(sinkId: string, items: readonly QueuedDelivery[], reason: string, at: number): Promise<void>;
  /** Oldest first. */
  deadLetters(sinkId: string, limit: number): Promise<DeadLetter[]>;
  /** Moves every dead letter back to the tail of the queue with its attempts reset; how many. */
  replay(sinkId: string, at: number): Promise<number>;
  stats(sinkId: string): Promise<QueueStats>;
  /** The sink was deleted: its queue and dead letters go. */
  purge(sinkId: string): Promise<void>;
}

/** What a backend offers for webhooks. */
export interface WebhookStores {
  readonly sinks: WebhookSinkStore;
  readonly queue: WebhookQueue;
}
