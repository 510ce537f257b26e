import { Router as ExpressRouter, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { SINK_LIMITS, WEBHOOK_EVENT_TYPES, WebhookError, type WebhookService } from '../webhooks';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import { validate } from './validation';

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

const DeadLetterQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** The webhook service's refusals as API errors. */
function apiErrorOf(err: unknown): unknown {
  if (!(err instanceof WebhookError)) return err;
  switch (err.code) {
    case 'not_found':
      return new ApiError('not_found', err.message);
    case 'read_only':
      return new ApiError('read_only_user', err.message, err.field);
    case 'too_many':
      return new ApiError('invalid_body', err.message);
    case 'invalid':
      return new ApiError('invalid_body', err.message, err.field);
  }
}

const handle =
  (work: (req: Request, res: Response) => Promise<void>) =>
  (req: Request, res: Response, next: NextFunction): void => {
    work(req, res).catch((err: unknown) => next(apiErrorOf(err)));
  };

/** /webhooks: sinks, their dead letters and replay. Scope `webhooks`. */
export function webhookRoutes(service: WebhookService): ExpressRouter {
  const routes = ExpressRouter();
  routes.use('/webhooks', requireScope('webhooks'));
  routes.post(
    '/webhooks',
    handle(async (req, res) => {
      const input = validate(CreateWebhook, req.body);
      const { sink, secret } = await service.create(input);
      // The secret is shown once, here; GET never returns it.
      res.status(201).json({ ...sink, secret });
    }),
  );
  routes.get('/webhooks', (_req, res) => {
    res.json({ webhooks: service.list() });
  });
  routes.get(
    '/webhooks/:id',
    handle(async (req, res) => {
      res.json(await service.get(String(req.params.id)));
    }),
  );
  routes.delete(
    '/webhooks/:id',
    handle(async (req, res) => {
      await service.delete(String(req.params.id));
      res.status(204).end();
    }),
  );
  routes.get(
    '/webhooks/:id/dead-letters',
    handle(async (req, res) => {
      const { limit } = validate(DeadLetterQuery, req.query, 'invalid_parameter');
      const letters = await service.deadLetters(String(req.params.id), limit);
      res.json({
        dead_letters: letters.map((letter) => ({
          event: JSON.parse(letter.payload) as unknown,
          attempts: letter.attempts,
          reason: letter.reason,
          enqueued_at: new Date(letter.enqueuedAt).toISOString(),
          failed_at: new Date(letter.failedAt).toISOString(),
        })),
      });
    }),
  );
  routes.post(
    '/webhooks/:id/dead-letters/replay',
    handle(async (req, res) => {
      res.json({ replayed: await service.replay(String(req.params.id)) });
    }),
  );
  return routes;
}
