import { Router as ExpressRouter, type NextFunction, type Request, type Response } from 'express';
import { WebhookError, type WebhookService } from '../webhooks';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import { validate } from './validation';
import { CreateWebhook, DeadLetterQuery } from './webhook-schemas';

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
