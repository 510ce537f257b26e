import type { WebhookEventType } from './event-types';

/**
 * One event as a sink receives it (the JSON body of a POST, or one item of a batch). `id` is the
 * idempotency key: a retry, a replay or a second delivery after a node died carries the same id, so a
 * receiver that remembers the ids it processed never acts twice.
 */
export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  /** When it happened, ISO 8601. */
  readonly time: string;
  /** The node it happened on. */
  readonly node: string;
  /** The sender, or the user the event is about (presence, sessions). */
  readonly from: string;
  /** The recipient; for presence and sessions, the same user; for group events, the room. */
  readonly to: string;
  /** The message body, when there is one. */
  readonly body?: string;
  /** The room's bare JID for group messages and group events. */
  readonly room?: string;
  /** The room's sequence number of the message (archive order), when the groups service gave one. */
  readonly seq?: number;
  /** What else the event carries: stanza id, thread, show/status, resource, end reason, control data… */
  readonly metadata: Readonly<Record<string, unknown>>;
}
