import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Scope } from './applications';
import * as groupSchemas from './group-schemas';
import * as historySchemas from './history-schemas';
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
const groupParam = groupSchemas.GroupParam;

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
    errors: [404, 413, 429],
  },
  {
    method: 'post',
    path: '/control',
    scope: 'push',
    summary: 'Send a control message (typed JSON) to users',
    body: schemas.ControlPush,
    ok: { status: 200, schema: schemas.PushResults, description: 'Per-recipient results' },
    errors: [404, 413, 429],
  },
  {
    method: 'post',
    path: '/groups',
    scope: 'groups',
    summary: 'Create a group (a members-only persistent room) with its members',
    body: groupSchemas.CreateGroup,
    ok: { status: 201, schema: groupSchemas.Group, description: 'Created' },
    errors: [409, 413],
  },
  {
    method: 'get',
    path: '/groups/{id}',
    scope: 'groups',
    summary: 'A group and its members',
    params: groupParam,
    ok: { status: 200, schema: groupSchemas.Group, description: 'The group' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/groups/{id}',
    scope: 'groups',
    summary: 'Delete a group: its occupants get the XEP-0045 §10.9 destroy presence; its history goes',
    params: groupParam,
    ok: { status: 204, description: 'Deleted' },
    errors: [404],
  },
  {
    method: 'put',
    path: '/groups/{id}/members/{username}',
    scope: 'groups',
    summary: 'Make a user a member of a group (nothing changes for a member, admin or owner)',
    params: groupSchemas.GroupMemberParam,
    ok: { status: 204, description: 'A member' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/groups/{id}/members/{username}',
    scope: 'groups',
    summary: "End a user's membership of a group (an occupant is removed with status 321)",
    params: groupSchemas.GroupMemberParam,
    ok: { status: 204, description: 'Removed' },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/users/{username}/groups',
    scope: 'groups',
    summary: 'The groups a user is a member of',
    params: userParam,
    ok: { status: 200, schema: groupSchemas.UserGroups, description: "The user's groups" },
    errors: [404],
  },
  {
    method: 'get',
    path: '/users/{username}/history',
    scope: 'history',
    summary: "A page of a user's archived chats, or of one conversation (with)",
    params: userParam,
    query: historySchemas.UserHistoryQuery,
    ok: { status: 200, schema: historySchemas.HistoryPage, description: 'A page of messages, oldest first' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/groups/{id}/history',
    scope: 'history',
    summary: "A page of a group's messages",
    params: groupParam,
    query: historySchemas.GroupHistoryQuery,
    ok: { status: 200, schema: historySchemas.HistoryPage, description: 'A page of messages, oldest first' },
    errors: [404],
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
  400: 'Invalid body or parameter, or groups asked of a gateway without MUC (groups_unavailable)',
  401: 'Missing or wrong application key',
  403: 'The application may not use this operation',
  404: 'No such user, session, webhook, group, member or archived message',
  409: 'The user or group exists already; the user is read-only (USERS / USERS_FILE), or the webhook is (WEBHOOKS_FILE); the member is the last owner',
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
      description:
        'Users, token login, prebind, pushes and control messages, groups, history, statistics, webhooks (docs/api.md, docs/groups-and-history.md, docs/webhooks.md).',
    },
    servers: [{ url: serverUrl }],
  });
}
