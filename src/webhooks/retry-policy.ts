/** How deliveries are retried (WEBHOOK_* settings, docs/webhooks.md "Retries"). */
export interface RetrySettings {
  /** Attempts in all, the first included; then the events go to the dead letters. */
  readonly maxAttempts: number;
  /** The delay after the first failure; doubled after each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** An event older than this is given up at its next failure, whatever its attempts. */
  readonly maxAgeMs: number;
}

/**
 * The wait before attempt `failures + 1`: exponential (base × 2^(failures−1)), capped, with "equal
 * jitter" (half fixed, half random) so that sinks that failed together do not retry together.
 */
export function backoffDelay(failures: number, settings: RetrySettings, random: () => number = Math.random): number {
  const exponential = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * RFC 9110 §10.2.3 Retry-After: delay-seconds or an HTTP-date; milliseconds from `now`, or undefined
 * when absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What an attempt's answer means for the events in it. */
export type AttemptOutcome =
  | 'delivered' // 2xx
  | 'retry' // a network error, a timeout, 5xx, 429 (and 408)
  | 'rejected' // another answer: retrying would not help
  | 'gone'; // 410: the receiver says the endpoint is gone for good; the sink is disabled

export function outcomeOf(status: number | undefined): AttemptOutcome {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  // 408 Request Timeout and 429 Too Many Requests are the 4xx that say "later" (RFC 9110 §15.5.9, RFC 6585 §4).
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}
