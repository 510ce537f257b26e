import express, { type Router as ExpressRouter } from 'express';
import type { BoshTransport } from '../bosh';
import type { Logger } from '../observability/logger';
import type { Stores } from '../store/create-stores';
import type { XmppDomain } from '../xmpp/domain';
import type { Application } from './applications';
import { authenticate } from './authentication';
import type { GroupService } from '../muc/group-service';
import { groupRoutes } from './group-handlers';
import { historyRoutes } from './history-handlers';
import { HistoryReader } from './history-reader';
import { notFound, renderErrors } from './error-rendering';
import type { LoginTokens } from './login-tokens';
import { openApiDocument } from './openapi';
import { Prebinder } from './prebind';
import { PushDelivery } from './push-delivery';
import { pushRoutes } from './push-handlers';
import { PushQuota } from './push-quota';
import { PushStatistics } from './push-statistics';
import { SessionClock } from './session-clock';
import { sessionRoutes } from './session-handlers';
import { statsRoutes } from './stats-handlers';
import { tokenRoutes } from './token-handlers';
import type { TokenValidity } from './token-validity';
import { usersRoutes } from './users-handlers';
import { webhookRoutes } from './webhook-handlers';
import type { WebhookService } from '../webhooks';

export { loadApplications, parseApplications, type Application, type Scope } from './applications';
export { LoginTokens } from './login-tokens';
export { TokenValidity } from './token-validity';
export { tokenSecret } from './token-secret';

export interface ApiSettings {
  readonly quotaPerMinute: number;
  readonly maxRecipients: number;
  readonly maxBodyBytes: number;
  readonly tokenTtlSeconds: number;
  readonly tokenMaxTtlSeconds: number;
  /** Returned by POST /sessions: where the page attaches (API_BOSH_URL, default BOSH_PATH). */
  readonly boshUrl: string;
  /** The wait and hold of prebound sessions (XEP-0124 §7.1). */
  readonly prebindWait: number;
  readonly prebindHold: number;
  /** History pages: messages when no limit is given, and the largest limit (API_HISTORY_DEFAULT_LIMIT, API_HISTORY_MAX_LIMIT). */
  readonly historyDefaultLimit: number;
  readonly historyMaxLimit: number;
}

export interface ApiDependencies {
  readonly applications: readonly Application[];
  readonly settings: ApiSettings;
  readonly version: string;
  readonly transport: BoshTransport;
  readonly xmpp: XmppDomain;
  readonly stores: Stores;
  readonly tokens: LoginTokens;
  readonly validity: TokenValidity;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Webhook sinks (docs/webhooks.md): /webhooks. */
  readonly webhooks?: WebhookService;
  /** The MUC service's groups (/groups, `to: {group}`); undefined when MUC is off. */
  readonly groups?: GroupService;
}

/**
 * The business API (docs/api.md), mounted at /api/v1: one express router per resource, behind
 * bearer-key authentication, with every error rendered as `{error, message, field?}`. A resource
 * added later is one more `*Routes(deps)` mounted here; each route names its own scope.
 */
export function createApi(deps: ApiDependencies): ExpressRouter {
  const { settings, xmpp, stores, logger } = deps;
  const { services } = xmpp;
  const now = deps.now ?? Date.now;
  const statistics = new PushStatistics();
  const api = express.Router();

  // The document describes the API; it holds nothing secret and needs no key.
  const document = openApiDocument(deps.version);
  api.get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  // The key first: an unauthenticated caller learns nothing, not even that its body is too large.
  api.use(authenticate(deps.applications));
  // JSON bodies up to API_MAX_BODY_BYTES; beyond, 413 (error-rendering.ts).
  api.use(express.json({ limit: settings.maxBodyBytes, strict: true }));
  api.use(
    usersRoutes({
      domain: services.domain,
      accounts: stores.accounts,
      readOnly: (username) => stores.configured.exists(username),
      rosters: stores.rosters,
      presence: services.presence,
      router: services.router,
      // With the MUC service, the user leaves its rooms the way the service does it (events, occupants).
      removeAccount: (username) => stores.removeAccount(username, deps.groups),
      validity: deps.validity,
      clock: new SessionClock(xmpp.events),
      now,
    }),
  );
  api.use(
    tokenRoutes({
      accounts: stores.accounts,
      tokens: deps.tokens,
      validity: deps.validity,
      ttl: { default: settings.tokenTtlSeconds, max: settings.tokenMaxTtlSeconds },
      now,
    }),
  );
  api.use(
    sessionRoutes({
      accounts: stores.accounts,
      prebinder: new Prebinder(deps.transport, deps.tokens, { domain: services.domain, wait: settings.prebindWait, hold: settings.prebindHold }),
      boshUrl: settings.boshUrl,
    }),
  );
  api.use(
    pushRoutes({
      domain: services.domain,
      accounts: stores.accounts,
      delivery: new PushDelivery(services.router, stores.accounts, logger),
      quota: new PushQuota(settings.quotaPerMinute, now),
      statistics,
      maxRecipients: settings.maxRecipients,
      now,
      groups: deps.groups,
    }),
  );
  api.use(groupRoutes({ domain: services.domain, accounts: stores.accounts, groups: deps.groups, maxMembers: settings.maxRecipients }));
  api.use(
    historyRoutes({
      domain: services.domain,
      accounts: stores.accounts,
      groups: deps.groups,
      reader: new HistoryReader(stores.archive),
      limits: { default: settings.historyDefaultLimit, max: settings.historyMaxLimit },
    }),
  );
  api.use(
    statsRoutes({
      node: services.router.node,
      statistics,
      online: () => ({ users: services.router.userCount, sessions: services.router.boundCount }),
      boshSessions: () => deps.transport.sessionCount,
    }),
  );
  if (deps.webhooks) api.use(webhookRoutes(deps.webhooks));
  api.use(notFound);
  api.use(renderErrors(logger));
  return api;
}
