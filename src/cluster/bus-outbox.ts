/** How long and how many bus messages may wait for Redis before they fail (BUS_OUTBOX_MAX, BUS_OUTBOX_SECONDS). */
export interface OutboxBounds {
  readonly maxMessages: number;
  readonly maxAgeMs: number;
}

/** One attempt at putting a message on a node's stream: 'dead' when that node's heartbeat lapsed; throws while Redis is unreachable. */
export type BusWrite<T> = (node: string, message: T) => Promise<'sent' | 'dead'>;

interface Waiting<T> {
  readonly node: string;
  readonly message: T;
  readonly since: number;
  resolve(): void;
  reject(err: Error): void;
}

// Each try while Redis is away fails at once (no offline queue), so trying often costs little and
// sends the waiting messages soon after Redis answers again.
const RETRY_MS = 100;

/**
 * Bus messages that could not reach Redis (a restart, a fail-over) wait here in order and go out
 * when it answers again, so a blip of a few seconds delays cross-node delivery instead of refusing
 * it. Past the bounds a message fails, and its sender's node routes it again (offline storage, or an
 * error to the sender).
 */
export class BusOutbox<T> {
  private readonly waiting: Array<Waiting<T>> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly bounds: OutboxBounds,
    private readonly write: BusWrite<T>,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /** Queues a message behind those already waiting; settles when it is on its stream or has failed. */
  hold(node: string, message: T): Promise<void> {
    if (this.waiting.length >= this.bounds.maxMessages) return Promise.reject(new Error('bus outbox full: Redis has been unreachable too long'));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ node, message, since: this.now(), resolve, reject });
      this.timer ??= setInterval(() => void this.flush(), RETRY_MS);
      this.timer.unref();
    });
  }

  /** Sends what waits, oldest first; stops at the first failure (Redis still away) and tries again later. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let head = this.waiting[0]; head !== undefined; head = this.waiting[0]) {
        if (this.now() - head.since > this.bounds.maxAgeMs) {
          this.waiting.shift();
          head.reject(new Error(`waited more than ${this.bounds.maxAgeMs} ms for Redis`));
          continue;
        }
        let outcome: 'sent' | 'dead';
        try {
          outcome = await this.write(head.node, head.message);
        } catch {
          return;
        }
        this.waiting.shift();
        if (outcome === 'sent') head.resolve();
        else head.reject(new Error(`node ${head.node} is not alive`));
      }
    } finally {
      this.flushing = false;
      if (this.waiting.length === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }

  /** Fails everything still waiting (the node is leaving for good). */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const waiting of this.waiting.splice(0)) waiting.reject(new Error('the node is leaving'));
  }
}
