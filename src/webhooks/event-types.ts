/**
 * The event types a sink can subscribe to (docs/webhooks.md has a payload example of each).
 * `message.chat` is the default: a one-to-one message with a non-empty body, the one event MongooseIM's
 * HTTP event pusher knows.
 */
export const WEBHOOK_EVENT_TYPES = [
  'message.chat',
  'message.groupchat',
  'message.headline',
  'message.control',
  'message.stored',
  'presence.online',
  'presence.offline',
  'session.started',
  'session.ended',
  'group.member_added',
  'group.member_removed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DEFAULT_EVENT_TYPES: readonly WebhookEventType[] = ['message.chat'];

export function isWebhookEventType(name: string): name is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(name);
}
