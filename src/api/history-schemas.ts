import { z } from 'zod';
// For .openapi() on zod's types (added there, once).
import './schemas';

/** A position in a history: a sequence number of the conversation, or an archive id (`3fa9c01be2-42`). */
const Position = z
  .string()
  .max(40)
  .regex(/^(0|[1-9][0-9]{0,15}|[0-9a-f]{10}-[1-9][0-9]{0,15})$/, { message: 'a sequence number or an archive id' })
  .openapi({ example: '42' });

const historyQuery = {
  after: Position.optional().openapi({ description: 'Everything after this sequence number or archive id, oldest first (0: from the first message)' }),
  before: Position.optional().openapi({ description: 'The newest page before this sequence number or archive id (with after: only messages before it)' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({ description: 'Messages in the page: default API_HISTORY_DEFAULT_LIMIT, at most API_HISTORY_MAX_LIMIT' }),
};

/** GET /groups/{id}/history */
export const GroupHistoryQuery = z.object(historyQuery).strict();

/** GET /users/{username}/history */
export const UserHistoryQuery = z
  .object({
    with: z
      .string()
      .min(1)
      .max(3071)
      .optional()
      .openapi({ description: 'The other user (a username or a bare JID of this domain): one conversation, whose sequence numbers after and before may use' }),
    ...historyQuery,
  })
  .strict();

export const HistoryMessage = z
  .object({
    seq: z.number().int().openapi({ description: "The message's sequence number in its conversation" }),
    id: z.string().openapi({ description: 'Its archive id: the XEP-0359 stanza-id clients saw', example: '3fa9c01be2-42' }),
    ts: z.string().openapi({ description: 'When it was archived (ISO 8601)' }),
    from: z.string(),
    to: z.string(),
    with: z.string().openapi({ description: "The other party: the contact's bare JID in a user's history; the sender's room JID in a group's" }),
    type: z.enum(['chat', 'normal', 'groupchat']),
    body: z.string().nullable(),
    stanza: z.string().openapi({ description: 'The message as it was routed, XML' }),
  })
  .openapi('HistoryMessage');

export const HistoryPage = z
  .object({
    messages: z.array(HistoryMessage).openapi({ description: 'Oldest first, also for a backward page' }),
    first: z.string().nullable().openapi({ description: 'The archive id of the first message of the page' }),
    last: z.string().nullable().openapi({ description: 'The archive id of the last message of the page' }),
    direction: z
      .enum(['forward', 'backward'])
      .openapi({ description: 'forward with after, backward otherwise (the latest page, or the page before `before`)' }),
    complete: z.boolean().openapi({ description: 'The page reaches the end in its direction: the newest message (forward) or the oldest (backward)' }),
  })
  .openapi('HistoryPage');
