import { z } from 'zod';
import { SINK_LIMITS, WEBHOOK_EVENT_TYPES } from '../webhooks';
// For .openapi() on zod's types (added there, once).
import './schemas';

const Names = z.array(z.string().min(1).max(1023)).max(SINK_LIMITS.filterEntries);

/** POST /webhooks: what a sink is (docs/webhooks.md). */
export const CreateWebhook = z
  .object({
    url: z
      .string()
      .url()
      .max(2048)
      .refine((url) => /^https?:\/\//i.test(url), { message: 'http or https only' })
      .openapi({ example: 'https://crm.example.com/hooks/chat' }),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).optional().openapi({ description: 'Default: ["message.chat"]' }),
    secret: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'whsec_ and 24 to 64 bytes in base64; generated when omitted', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
    batch: z
      .object({
        max_events: z.number().int().min(1).max(SINK_LIMITS.maxEvents),
        max_delay_ms: z.number().int().min(0).max(SINK_LIMITS.maxDelayMs),
      })
      .strict()
      .optional(),
    rate_per_second: z.number().min(SINK_LIMITS.minRate).max(SINK_LIMITS.maxRate).optional(),
    timeout_ms: z.number().int().min(SINK_LIMITS.minTimeoutMs).max(SINK_LIMITS.maxTimeoutMs).optional(),
    filter: z.object({ from_domains: Names.optional(), to_domains: Names.optional(), rooms: Names.optional() }).strict().optional(),
  })
  .strict()
  .openapi('CreateWebhook');

/** GET /webhooks/{id}/dead-letters?limit= */
export const DeadLetterQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export const WebhookIdParam = z.object({ id: z.string().min(1) });

/** A sink as the API shows it (SinkStatus in src/webhooks): never its secrets. */
export const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    batch: z.object({ max_events: z.number().int(), max_delay_ms: z.number().int() }).nullable(),
    rate_per_second: z.number().nullable(),
    timeout_ms: z.number().int().nullable(),
    filter: z
      .object({ from_domains: z.array(z.string()).optional(), to_domains: z.array(z.string()).optional(), rooms: z.array(z.string()).optional() })
      .nullable(),
    source: z.enum(['api', 'file']).openapi({ description: 'file: from WEBHOOKS_FILE, read-only' }),
    created_at: z.string(),
    disabled: z
      .object({ at: z.string(), reason: z.string() })
      .nullable()
      .openapi({ description: 'Set when the receiver answered 410 Gone; a replay clears it' }),
    health: z.object({
      failing: z.boolean(),
      consecutive_failures: z.number().int(),
      last_error: z.string().nullable(),
      last_failure_at: z.string().nullable(),
      last_success_at: z.string().nullable(),
    }),
  })
  .openapi('Webhook');

export const CreatedWebhook = Webhook.extend({ secret: z.string().openapi({ description: 'Shown here only' }) }).openapi('CreatedWebhook');

export const WebhookList = z.object({ webhooks: z.array(Webhook) }).openapi('WebhookList');

export const DeadLetterList = z
  .object({
    dead_letters: z.array(
      z.object({
        event: z.record(z.string(), z.unknown()).openapi({ description: 'The event exactly as it was posted' }),
        attempts: z.number().int(),
        reason: z.string().openapi({ example: 'attempts' }),
        enqueued_at: z.string(),
        failed_at: z.string(),
      }),
    ),
  })
  .openapi('DeadLetterList');

export const Replayed = z.object({ replayed: z.number().int().openapi({ description: 'Dead letters queued again' }) }).openapi('Replayed');
