import type { WebhookFilterRecord, WebhookSinkRecord } from '../store/webhook-store';
import { DEFAULT_EVENT_TYPES, isWebhookEventType, WEBHOOK_EVENT_TYPES } from './event-types';
import { isUsableSecret, newSecret } from './signing';
import { WebhookError } from './webhook-error';

/** A sink as the API and WEBHOOKS_FILE describe it (snake_case, as on the wire). */
export interface SinkInput {
  readonly id?: string;
  readonly url: string;
  readonly events?: readonly string[];
  readonly secret?: string;
  /** WEBHOOKS_FILE only: several secrets, newest first, during a rotation. */
  readonly secrets?: readonly string[];
  readonly batch?: { readonly max_events: number; readonly max_delay_ms: number };
  readonly rate_per_second?: number;
  readonly timeout_ms?: number;
  readonly filter?: { readonly from_domains?: readonly string[]; readonly to_domains?: readonly string[]; readonly rooms?: readonly string[] };
}

/** The bounds a definition is checked against (also what the API's schema states). */
export const SINK_LIMITS = {
  maxEvents: 1000,
  maxDelayMs: 60_000,
  minRate: 0.1,
  maxRate: 10_000,
  minTimeoutMs: 100,
  maxTimeoutMs: 30_000,
  filterEntries: 100,
} as const;

const SINK_ID = /^[A-Za-z0-9_-]{1,64}$/;

function invalid(field: string, message: string): never {
  throw new WebhookError('invalid', `${field}: ${message}`, field);
}

function numberIn(value: unknown, field: string, min: number, max: number, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    invalid(field, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

function names(value: unknown, field: string, lower: boolean): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > SINK_LIMITS.filterEntries ||
    !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 1023)
  ) {
    invalid(field, `a list of at most ${SINK_LIMITS.filterEntries} names`);
  }
  return (value as string[]).map((item) => (lower ? item.toLowerCase() : item));
}

/**
 * Checks a definition and gives the record to keep, with a secret generated when none was given.
 * What the API's zod schema already checked is checked again here: WEBHOOKS_FILE has no other check.
 */
export function sinkRecordOf(input: SinkInput, id: string, createdAt: number): { record: WebhookSinkRecord; secret: string } {
  if (!SINK_ID.test(id)) invalid('id', 'letters, digits, _ and -, at most 64');
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    invalid('url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid('url', 'http or https only');
  if (url.username !== '' || url.password !== '') invalid('url', 'credentials in the URL are not kept; authenticate the signature instead');
  const events = input.events ?? DEFAULT_EVENT_TYPES;
  if (!Array.isArray(events) || events.length === 0) invalid('events', 'at least one event type');
  for (const [index, name] of events.entries()) {
    if (typeof name !== 'string' || !isWebhookEventType(name)) invalid(`events.${index}`, `one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  const secrets = input.secrets ?? (input.secret !== undefined ? [input.secret] : [newSecret()]);
  if (!Array.isArray(secrets) || secrets.length === 0) invalid('secrets', 'at least one secret');
  for (const [index, secret] of secrets.entries()) {
    if (typeof secret !== 'string' || !isUsableSecret(secret)) {
      invalid(input.secrets ? `secrets.${index}` : 'secret', 'whsec_ followed by 24 to 64 bytes in base64 (Standard Webhooks)');
    }
  }
  const batch =
    input.batch === undefined
      ? undefined
      : {
          maxEvents: numberIn(input.batch?.max_events, 'batch.max_events', 1, SINK_LIMITS.maxEvents, true),
          maxDelayMs: numberIn(input.batch?.max_delay_ms, 'batch.max_delay_ms', 0, SINK_LIMITS.maxDelayMs, true),
        };
  const ratePerSecond =
    input.rate_per_second === undefined ? undefined : numberIn(input.rate_per_second, 'rate_per_second', SINK_LIMITS.minRate, SINK_LIMITS.maxRate, false);
  const timeoutMs =
    input.timeout_ms === undefined ? undefined : numberIn(input.timeout_ms, 'timeout_ms', SINK_LIMITS.minTimeoutMs, SINK_LIMITS.maxTimeoutMs, true);
  let filter: WebhookFilterRecord | undefined;
  if (input.filter !== undefined) {
    if (typeof input.filter !== 'object' || input.filter === null) invalid('filter', 'an object');
    filter = {
      fromDomains: names(input.filter.from_domains, 'filter.from_domains', true),
      toDomains: names(input.filter.to_domains, 'filter.to_domains', true),
      rooms: names(input.filter.rooms, 'filter.rooms', true),
    };
  }
  const record: WebhookSinkRecord = {
    id,
    url: url.toString(),
    events: [...new Set(events)],
    secrets: [...secrets],
    batch,
    ratePerSecond,
    timeoutMs,
    filter,
    createdAt,
    disabled: undefined,
  };
  return { record, secret: secrets[0] as string };
}

/** A sink as the API shows it: never its secrets. */
export interface SinkView {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly batch: { max_events: number; max_delay_ms: number } | null;
  readonly rate_per_second: number | null;
  readonly timeout_ms: number | null;
  readonly filter: { from_domains?: readonly string[]; to_domains?: readonly string[]; rooms?: readonly string[] } | null;
  readonly source: 'api' | 'file';
  readonly created_at: string;
  readonly disabled: { at: string; reason: string } | null;
}

export function viewOf(record: WebhookSinkRecord, source: 'api' | 'file'): SinkView {
  const { filter } = record;
  return {
    id: record.id,
    url: record.url,
    events: record.events,
    batch: record.batch ? { max_events: record.batch.maxEvents, max_delay_ms: record.batch.maxDelayMs } : null,
    rate_per_second: record.ratePerSecond ?? null,
    timeout_ms: record.timeoutMs ?? null,
    filter: filter
      ? {
          ...(filter.fromDomains ? { from_domains: filter.fromDomains } : {}),
          ...(filter.toDomains ? { to_domains: filter.toDomains } : {}),
          ...(filter.rooms ? { rooms: filter.rooms } : {}),
        }
      : null,
    source,
    created_at: new Date(record.createdAt).toISOString(),
    disabled: record.disabled ? { at: new Date(record.disabled.at).toISOString(), reason: record.disabled.reason } : null,
  };
}
