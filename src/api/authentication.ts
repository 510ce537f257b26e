import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from './api-error';
import type { Application, Scope } from './applications';

/** The application a request was authenticated as (set by `authenticate`). */
export function applicationOf(res: Response): Application {
  return res.locals.application as Application;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * `Authorization: Bearer <key>` (RFC 6750 §2.1). Every application's key is compared, in constant
 * time and with no early exit, against the digests of equal length: neither the position of a
 * wrong byte nor which application matched shows in the timing. Keys are never logged.
 */
export function authenticate(applications: readonly Application[]): RequestHandler {
  const known = applications.map((application) => ({ application, digest: digest(application.key) }));
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(new ApiError('missing_key', 'send the application key as Authorization: Bearer <key>'));
    }
    const match = /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(header);
    const presented = digest(match?.[1] ?? '');
    let found: Application | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(candidate.digest, presented) && match) found = candidate.application;
    }
    if (!found) {
      // RFC 6750 §3.1: invalid_token.
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(new ApiError('invalid_key', 'the application key is not valid'));
    }
    res.locals.application = found;
    next();
  };
}

/** The operation needs `scope`: an application without it gets 403. */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    const application = applicationOf(res);
    if (!application.scopes.has(scope)) return next(new ApiError('forbidden', `the application '${application.name}' may not use '${scope}' operations`));
    next();
  };
}
