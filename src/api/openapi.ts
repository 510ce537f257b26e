import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Scope } from './applications';
import * as schemas from './schemas';
import * as webhookSchemas from './webhook-schemas';

type Method = RouteConfig['method'];

interface Operation {
  readonly method: Method;
  readonly path: string;
  readonly scope: Scope;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly params?: z.ZodObject;
  readonly ok: { readonly status: number; readonly schema?: z.ZodType; readonly description: string };
  /** The 4xx this operation answers beyond 400, 401, 403. */
  readonly errors?: readonly number[];
}

const userParam = z.object({ username: schemas.Username });
const webhookParam = webhookSchemas.WebhookIdParam;

/** Every endpoint, described with the very schemas that validate its requests. */
const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/users',
    scope: 'users',
    summary: 'Create a user',
    body: schemas.CreateUser,
    ok: { status: 201, schema: schemas.CreatedUser, description: 'Created' },
    errors: [409],
  },
  {
    method: 'get',
    path: '/users',
    scope: 'users',
    summary: 'List users by name',
    query: schemas.ListUsersQuery,
    ok: { status: 200, schema: schemas.UserList, description: 'A page of users' },
  },
  {
    method: 'get',
    path: '/users/{username}',
    scope: 'users',
    summary: 'A user and their sessions',
    params: userParam,
    ok: { status: 200, schema: schemas.UserInfo, description: 'The user' },
    errors: [404],
  },
  {
    method: 'put',
    path: '/users/{username}/password',
    scope: 'users',
    summary: "Change a user's password (voids their login tokens)",
    params: userParam,
    body: schemas.ChangePassword,
    ok: { status: 204, description: 'Changed' },
    errors: [404, 409],
  },
  {
    method: 'delete',
    path: '/users/{username}',
    scope: 'users',
    summary: 'Delete a user, their data and sessions',
    params: userParam,
    ok: { status: 204, description: 'Deleted' },
    errors: [404, 409],
  },
  {
    method: 'delete',
    path: '/users/{username}/sessions/{resource}',
    scope: 'users',
    summary: 'End one session of a user (policy-violation stream error)',
    params: z.object({ username: schemas.Username, resource: schemas.Resource }),
    ok: { status: 204, description: 'Ended' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/users/{username}/token',
    scope: 'tokens',
    summary: 'Issue a login token (a SASL PLAIN password)',
    params: userParam,
    body: schemas.TokenRequest,
    ok: { status: 201, schema: schemas.Token, description: 'The token' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/users/{username}/tokens',
    scope: 'tokens',
    summary: 'Void every login token issued so far for the user',
    params: userParam,
    ok: { status: 204, description: 'Voided' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/sessions',
    scope: 'sessions',
    summary: 'Prebind: a BOSH session already logged in, for a page to attach to',
    body: schemas.PrebindRequest,
    ok: { status: 201, schema: schemas.Prebind, description: 'The session' },
    errors: [404, 503],
  },
  {
    method: 'post',
    path: '/messages',
    scope: 'push',
    summary: 'Send a message to users',
    body: schemas.MessagePush,
    ok: { status: 200, schema: schemas.PushResults, description: 'Per-recipient results' },
    errors: [413, 429],
  },
  {
    method: 'post',
    path: '/control',
    scope: 'push',
    summary: 'Send a control message (typed JSON) to users',
    body: schemas.ControlPush,
    ok: { status: 200, schema: schemas.PushResults, description: 'Per-recipient results' },
    errors: [413, 429],
  },
  {
    method: 'get',
    path: '/stats',
    scope: 'stats',
    summary: 'Push counts per application and who is online, on this node',
    ok: { status: 200, schema: schemas.Stats, description: 'Statistics' },
  },
  {
    method: 'post',
    path: '/webhooks',
    scope: 'webhooks',
    summary: 'Create a webhook sink (its secret is shown in this answer only)',
    body: webhookSchemas.CreateWebhook,
    ok: { status: 201, schema: webhookSchemas.CreatedWebhook, description: 'Created' },
  },
  {
    method: 'get',
    path: '/webhooks',
    scope: 'webhooks',
    summary: 'List webhook sinks (API and WEBHOOKS_FILE) with their delivery health',
    ok: { status: 200, schema: webhookSchemas.WebhookList, description: 'The sinks' },
  },
  {
    method: 'get',
    path: '/webhooks/{id}',
    scope: 'webhooks',
    summary: 'A webhook sink and its delivery health',
    params: webhookParam,
    ok: { status: 200, schema: webhookSchemas.Webhook, description: 'The sink' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/webhooks/{id}',
    scope: 'webhooks',
    summary: 'Delete a webhook sink, its queue and dead letters',
    params: webhookParam,
    ok: { status: 204, description: 'Deleted' },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/webhooks/{id}/dead-letters',
    scope: 'webhooks',
    summary: 'Events given up on for a sink, oldest first',
    params: webhookParam,
    query: webhookSchemas.DeadLetterQuery,
    ok: { status: 200, schema: webhookSchemas.DeadLetterList, description: 'The dead letters' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/webhooks/{id}/dead-letters/replay',
    scope: 'webhooks',
    summary: 'Queue every dead letter again (and enable a sink a 410 disabled)',
    params: webhookParam,
    ok: { status: 200, schema: webhookSchemas.Replayed, description: 'How many were queued' },
    errors: [404],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid body or parameter, or groups requested',
  401: 'Missing or wrong application key',
  403: 'The application may not use this operation',
  404: 'No such user, session or webhook',
  409: 'The user exists already, or is read-only (USERS / USERS_FILE), or the webhook is (WEBHOOKS_FILE)',
  413: 'Too many recipients, or the body is too large',
  429: 'Push quota exceeded (see Retry-After)',
  503: 'Temporarily unable (see Retry-After when given)',
};

/** The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json. */
export function openApiDocument(version: string, serverUrl = '/api/v1'): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'applicationKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An application key of API_KEYS / API_KEYS_FILE',
  });
  const errorBody = registry.register('Error', schemas.ErrorBody);
  for (const op of OPERATIONS) {
    const responses: RouteConfig['responses'] = {
      [op.ok.status]: op.ok.schema
        ? { description: op.ok.description, content: { 'application/json': { schema: op.ok.schema } } }
        : { description: op.ok.description },
    };
    for (const status of [400, 401, 403, ...(op.errors ?? [])]) {
      responses[status] = { description: ERROR_TEXT[status] ?? 'Error', content: { 'application/json': { schema: errorBody } } };
    }
    registry.registerPath({
      method: op.method,
      path: op.path,
      summary: op.summary,
      description: `Needs the scope \`${op.scope}\`.`,
      tags: [op.scope],
      security: [{ [bearer.name]: [] }],
      request: {
        ...(op.body ? { body: { content: { 'application/json': { schema: op.body } }, required: true } } : {}),
        ...(op.query ? { query: op.query } : {}),
        ...(op.params ? { params: op.params } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'bosh-gateway business API',
      version,
      description: 'Users, token login, prebind, pushes and control messages, statistics, webhooks (docs/api.md, docs/webhooks.md).',
    },
    servers: [{ url: serverUrl }],
  });
}
