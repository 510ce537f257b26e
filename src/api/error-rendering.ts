import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../observability/logger';
import { ApiError, errorBody } from './api-error';

/** What express's JSON parser throws (body-parser's http-errors): only the fields read here. */
interface ParserError {
  readonly type?: string;
  readonly status?: number;
}

/** Any path under /api/v1 that no route takes. */
export const notFound: RequestHandler = (req, _res, next) => next(new ApiError('not_found', `no endpoint ${req.method} ${req.baseUrl}${req.path}`));

/**
 * Every error of the API is rendered here, once: `{error, message, field?}` with the code's status.
 * The JSON parser's refusals become 413 (over API_MAX_BODY_BYTES) and 400 (not JSON); anything else
 * is a fault, logged (without the request body or headers: keys and passwords stay out of the logs)
 * and answered 500.
 */
export function renderErrors(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let error: ApiError;
    if (err instanceof ApiError) {
      error = err;
    } else if ((err as ParserError).type === 'entity.too.large') {
      error = new ApiError('body_too_large', 'the request body is larger than the API accepts');
    } else if (
      (err as ParserError).type === 'entity.parse.failed' ||
      (err as ParserError).type === 'encoding.unsupported' ||
      (err as ParserError).type === 'charset.unsupported'
    ) {
      error = new ApiError('invalid_body', 'the request body is not JSON (UTF-8)');
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'API request failed');
      error = new ApiError('internal_error', 'the request could not be completed');
    }
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    res.status(error.status).json(errorBody(error));
  };
}
