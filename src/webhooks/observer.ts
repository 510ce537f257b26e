import type { AttemptOutcome } from './retry-policy';

/** What webhook delivery reports (metrics implement it). */
export interface WebhookObserver {
  /** Events put on sinks' queues. */
  enqueued(events: number): void;
  /** One POST and what it came to, with the events it carried and how long it took. */
  attempted(sinkId: string, outcome: AttemptOutcome, events: number, seconds: number): void;
  /** Events given up and moved to the dead letters ('attempts', 'expired', 'rejected', 'gone'). */
  deadLettered(sinkId: string, reason: string, events: number): void;
}

export const NO_WEBHOOK_OBSERVER: WebhookObserver = {
  enqueued: () => undefined,
  attempted: () => undefined,
  deadLettered: () => undefined,
};
