import { Router as ExpressRouter } from 'express';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import type { Prebinder } from './prebind';
import { PrebindRequest } from './schemas';
import { validate } from './validation';

export interface SessionDependencies {
  readonly accounts: AccountStore;
  readonly prebinder: Prebinder;
  /** The BOSH URL the page attaches through (API_BOSH_URL, default BOSH_PATH). */
  readonly boshUrl: string;
}

/** POST /sessions: a prebound BOSH session (prebind.ts). Scope `sessions`. */
export function sessionRoutes(deps: SessionDependencies): ExpressRouter {
  const routes = ExpressRouter();
  routes.post('/sessions', requireScope('sessions'), async (req, res) => {
    const { username, resource } = validate(PrebindRequest, req.body);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`, 'username');
    const session = await deps.prebinder.open(username, resource);
    res.status(201).json({ ...session, url: deps.boshUrl });
  });
  return routes;
}
