import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { normaliseLocal, normaliseResource } from '../base/jid';
import { hasNonXmlChar } from '../xml/characters';

// Adds .openapi() to zod's types: the schemas below validate requests and describe them in
// openapi.ts, one source for both.
extendZodWithOpenApi(z);

/** Text that may travel in XML 1.0 (§2.2): what XML forbids is refused, never relayed. */
const xmlText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => !hasNonXmlChar(text), { message: 'contains characters XML 1.0 does not allow' });

export const Username = z
  .string()
  .min(1)
  .max(1023)
  .refine((name) => normaliseLocal(name) === name, { message: 'not a valid XMPP localpart in normal form (lower case, no spaces, @, /, :, quotes, < or >)' })
  .openapi({ description: 'The account name: the localpart of the JID, in normal form (RFC 7622 §3.3)', example: 'alice' });

export const Resource = z
  .string()
  .min(1)
  .max(1023)
  .refine((resource) => normaliseResource(resource) === resource, { message: 'not a valid XMPP resourcepart' })
  .openapi({ example: 'web' });

export const ErrorBody = z
  .object({
    error: z.string().openapi({ example: 'invalid_body' }),
    message: z.string().openapi({ example: 'body.to: required' }),
    field: z.string().optional().openapi({ example: 'to' }),
  })
  .openapi('Error');

// ---- users ----

export const CreateUser = z
  .object({
    username: Username,
    password: z.string().min(1).max(1024).optional().openapi({ description: 'Omitted: a random password is generated and returned once' }),
  })
  .strict()
  .openapi('CreateUser');

export const CreatedUser = z
  .object({
    username: z.string(),
    jid: z.string().openapi({ example: 'alice@example.com' }),
    password: z.string().optional().openapi({ description: 'Only when it was generated' }),
  })
  .openapi('CreatedUser');

export const SessionInfo = z
  .object({
    resource: z.string(),
    node: z.string().openapi({ description: "The cluster node holding the session ('local' without a cluster)" }),
    available: z.boolean().openapi({ description: 'Has sent initial presence (RFC 6121 §4.2)' }),
    priority: z.number().int(),
    since: z.string().optional().openapi({ description: 'When the resource was bound (ISO 8601), when known' }),
  })
  .openapi('Session');

export const UserInfo = z
  .object({
    username: z.string(),
    jid: z.string(),
    online: z.boolean(),
    sessions: z.array(SessionInfo),
  })
  .openapi('User');

export const ListUsersQuery = z
  .object({
    after: z.string().max(1023).optional().openapi({ description: "The previous page's next" }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const UserList = z
  .object({
    users: z.array(z.object({ username: z.string(), read_only: z.boolean() })),
    next: z.string().nullable().openapi({ description: 'Pass as after= for the next page; null on the last' }),
  })
  .openapi('UserList');

export const ChangePassword = z
  .object({ password: z.string().min(1).max(1024) })
  .strict()
  .openapi('ChangePassword');

// ---- tokens and prebind ----

export const TokenRequest = z
  .object({ ttl_seconds: z.number().int().min(1).optional().openapi({ description: 'Lifetime; default API_TOKEN_TTL, at most API_TOKEN_MAX_TTL' }) })
  .strict()
  .openapi('TokenRequest');

export const Token = z
  .object({
    token: z.string().openapi({ description: 'The SASL PLAIN password for this user until expires_at' }),
    expires_at: z.string().openapi({ example: '2026-01-01T12:00:00Z' }),
  })
  .openapi('Token');

export const PrebindRequest = z.object({ username: Username, resource: Resource.optional() }).strict().openapi('PrebindRequest');

export const Prebind = z
  .object({
    jid: z.string().openapi({ example: 'alice@example.com/web' }),
    sid: z.string(),
    rid: z.number().int().openapi({ description: "The rid of the client's next request: Strophe.js attach(jid, sid, rid)" }),
    url: z.string().openapi({ description: 'The BOSH endpoint to attach through', example: '/http-bind' }),
    wait: z.number().int(),
    hold: z.number().int(),
  })
  .openapi('Prebind');

// ---- push ----

export const Recipients = z
  .union([
    z.array(z.string().min(1).max(3071)).min(1).openapi({ description: 'Usernames or bare JIDs of this domain (a full JID addresses one resource)' }),
    z
      .object({ group: z.string().min(1) })
      .strict()
      .openapi({ description: "A group (its id): one groupchat message from the group's room, archived with its sequence number" }),
  ])
  .openapi({ example: ['alice', 'bob@example.com'] });

export const MessagePush = z
  .object({
    to: Recipients,
    from: z.string().min(1).max(3071).optional().openapi({ description: 'A user of this domain to send as; default the domain itself' }),
    type: z.enum(['chat', 'headline', 'normal']).default('chat'),
    body: xmlText(65_536).pipe(z.string().min(1)),
    store: z.boolean().default(true).openapi({ description: 'Keep it for recipients who are offline (chat and normal only)' }),
  })
  .strict()
  .openapi('MessagePush');

export const ControlPush = z
  .object({
    to: Recipients,
    type: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/)
      .openapi({ description: "The application's name for this kind of control message", example: 'order.updated' }),
    data: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({ description: 'Any JSON object, delivered as the element text', example: { order: 42 } }),
    ttl_seconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .optional()
      .openapi({ description: 'Stored copies older than this are dropped, not delivered (XEP-0023)' }),
    priority: z.enum(['normal', 'high']).default('normal'),
    store: z.boolean().default(false).openapi({ description: 'Keep it for recipients who are offline, until they log in or ttl_seconds passes' }),
  })
  .strict()
  .openapi('ControlPush');

export const PushStatus = z.enum(['delivered', 'stored', 'offline', 'unknown-user', 'failed']).openapi({
  description:
    'delivered: handed to an online session (any node), or taken by the group (archived, sent to its occupants and member notices); stored: kept offline; offline: nobody online and not stored; unknown-user: no such account; failed: not a JID of this domain, or routing failed',
});

export const PushResults = z
  .object({
    id: z.string().openapi({ description: 'The id of the message stanza sent' }),
    results: z.array(
      z.object({
        to: z.string(),
        status: PushStatus,
        reason: z.string().optional(),
        seq: z.number().int().optional().openapi({ description: "To a group: the message's sequence number in the group" }),
        archive_id: z.string().optional().openapi({ description: 'To a group: its archive id (the XEP-0359 stanza-id occupants get)' }),
      }),
    ),
  })
  .openapi('PushResults');

// ---- statistics ----

export const PushCounts = z
  .object({
    pushes: z.number().int().openapi({ description: 'Accepted push calls' }),
    recipients: z.number().int(),
    delivered: z.number().int(),
    stored: z.number().int(),
    offline: z.number().int(),
    unknown_user: z.number().int(),
    failed: z.number().int(),
  })
  .openapi('PushCounts');

export const Stats = z
  .object({
    node: z.string(),
    since: z.string().openapi({ description: 'When these counts started (this node started)' }),
    applications: z.record(z.string(), PushCounts),
    total: PushCounts,
    online: z.object({
      users: z.number().int().openapi({ description: 'Users with at least one bound session on this node' }),
      sessions: z.number().int().openapi({ description: 'Bound XMPP sessions on this node' }),
      bosh_sessions: z.number().int().openapi({ description: 'BOSH sessions on this node, logged in or not' }),
    }),
  })
  .openapi('Stats');

export type PushStatusValue = z.infer<typeof PushStatus>;
