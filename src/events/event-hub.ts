import type { GatewayEvents } from './events';

/** A subscriber: may be async; what it returns is never awaited by the emitter. */
export type EventHandler<P> = (payload: P) => void | Promise<void>;

/** What the hub reports (metrics implement it). */
export interface EventHubObserver {
  subscriberFailed(event: string): void;
}

/** The part of the node's logger the hub uses. */
export interface EventLogger {
  error(fields: object, message: string): void;
}

export interface EventHubOptions {
  readonly logger: EventLogger;
  readonly observer?: EventHubObserver;
  /**
   * Runs the subscribers of one emission later. Default `queueMicrotask`: after the emitting code's
   * current step, before any I/O, in emission order.
   */
  readonly defer?: (run: () => void) => void;
}

/**
 * The node's event hub: any number of subscribers per event, each one isolated.
 *
 * - Subscribers run after the emitting code has moved on (one deferred task per emission), never
 *   inside it: routing, presence and sessions are never re-entered by a subscriber that sends a stanza
 *   or touches a store, and nothing a subscriber does can change a routing decision already taken.
 * - A subscriber that throws, or whose promise rejects, is logged with the event's name and counted;
 *   the other subscribers still run and nothing propagates to the emitter or the process.
 * - A slow async subscriber holds up nobody: its promise is not awaited, so the next emission and the
 *   other subscribers go on. A subscriber that must not run concurrently with itself queues on its own.
 *   (A subscriber that blocks the event loop synchronously blocks the whole node; that is its bug.)
 * - Payloads are frozen: every subscriber sees the same facts.
 *
 * Emitting with nobody subscribed costs a map lookup: payloads may be passed as a function, called
 * only when someone listens (a stanza is serialised only for an archive or a webhook that wants it).
 */
export class EventHub<Events extends object = GatewayEvents> {
  private readonly subscribers = new Map<keyof Events, Set<EventHandler<never>>>();
  private readonly defer: (run: () => void) => void;

  constructor(private readonly options: EventHubOptions) {
    this.defer = options.defer ?? queueMicrotask;
  }

  /** Subscribes to one event; returns the way to unsubscribe. */
  on<K extends keyof Events>(event: K, handler: EventHandler<Events[K]>): () => void {
    let handlers = this.subscribers.get(event);
    if (!handlers) {
      handlers = new Set();
      this.subscribers.set(event, handlers);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
    };
  }

  /** Whether anyone listens to an event (for emitters whose payload is costly even as a function). */
  has(event: keyof Events): boolean {
    return (this.subscribers.get(event)?.size ?? 0) > 0;
  }

  /** Tells every subscriber of `event`, later; returns at once and never throws. */
  emit<K extends keyof Events>(event: K, payload: Events[K] | (() => Events[K])): void {
    const handlers = this.subscribers.get(event);
    if (!handlers || handlers.size === 0) return;
    let facts: Events[K];
    try {
      facts = typeof payload === 'function' ? (payload as () => Events[K])() : payload;
      Object.freeze(facts);
    } catch (err) {
      // Building the payload failed: the event is lost, the emitter's work is not.
      this.failed(event, err, 'building an event payload failed');
      return;
    }
    // A subscriber added or removed while this emission waits does not change who hears it.
    const audience = [...handlers] as EventHandler<Events[K]>[];
    this.defer(() => {
      for (const handler of audience) this.run(event, handler, facts);
    });
  }

  private run<K extends keyof Events>(event: K, handler: EventHandler<Events[K]>, facts: Events[K]): void {
    try {
      const result = handler(facts);
      if (result !== undefined && typeof result.then === 'function') {
        result.then(undefined, (err: unknown) => this.failed(event, err, 'event subscriber failed'));
      }
    } catch (err) {
      this.failed(event, err, 'event subscriber failed');
    }
  }

  private failed(event: keyof Events, err: unknown, message: string): void {
    try {
      this.options.observer?.subscriberFailed(String(event));
      this.options.logger.error({ err, event: String(event) }, message);
    } catch {
      // Reporting must not become the failure that escapes.
    }
  }
}

/** The hub as this gateway uses it. */
export type GatewayEventHub = EventHub<GatewayEvents>;
