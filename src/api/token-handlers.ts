import { Router as ExpressRouter } from 'express';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import type { LoginTokens } from './login-tokens';
import { TokenRequest } from './schemas';
import type { TokenValidity } from './token-validity';
import { usernameParam } from './users-handlers';
import { validate } from './validation';

export interface TokenDependencies {
  readonly accounts: AccountStore;
  readonly tokens: LoginTokens;
  readonly validity: TokenValidity;
  readonly ttl: { readonly default: number; readonly max: number };
  readonly now: () => number;
}

/** Token login: POST /users/{username}/token issues one, DELETE /users/{username}/tokens voids all. Scope `tokens`. */
export function tokenRoutes(deps: TokenDependencies): ExpressRouter {
  const routes = ExpressRouter();

  routes.post('/users/:username/token', requireScope('tokens'), async (req, res) => {
    const username = usernameParam(req.params.username);
    const { ttl_seconds: ttl = deps.ttl.default } = validate(TokenRequest, req.body ?? {});
    if (ttl > deps.ttl.max) throw new ApiError('invalid_body', `ttl_seconds: at most ${deps.ttl.max} (API_TOKEN_MAX_TTL)`, 'ttl_seconds');
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    const issued = await deps.tokens.issue(username, ttl);
    res.status(201).json({ token: issued.token, expires_at: issued.expiresAt.toISOString() });
  });

  routes.delete('/users/:username/tokens', requireScope('tokens'), async (req, res) => {
    const username = usernameParam(req.params.username);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    await deps.validity.revoke(username, deps.now());
    res.status(204).end();
  });

  return routes;
}
