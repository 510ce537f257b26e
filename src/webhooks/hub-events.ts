import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { GatewayEvents, GroupMessage, MessageRouted, MessageStored, PresenceChanged, SessionEnded, SessionStarted, StanzaFacts } from '../events';
import { parseStrictXml, type Element } from '../xml';
import type { WebhookEventType } from './event-types';
import type { WebhookEvent } from './webhook-event';

/** Control messages of the business API (docs/api.md, "Control messages"). */
const NS_CONTROL = 'urn:bosh-gateway:control:0';

/**
 * What the groups service reports when a room's membership changes (emitted on the hub as
 * `groupMemberAdded` / `groupMemberRemoved` once groups exist; read defensively until then).
 */
export interface GroupMemberFacts {
  readonly node: string;
  readonly at: Date;
  /** The room's bare JID. */
  readonly room: string;
  /** The member's bare JID. */
  readonly jid: string;
  /** Who made the change, when known. */
  readonly by?: string;
  readonly affiliation?: string;
  /** Why: 'affiliation' (also when absent), 'destroyed', 'account-removed'. */
  readonly reason?: string;
}

/** metadata.reason of group.member_removed, by the hub event's reason: how a receiver tells removals apart. */
const REMOVAL_REASONS: Readonly<Record<string, string>> = {
  affiliation: 'affiliation_changed',
  destroyed: 'group_destroyed',
  'account-removed': 'account_removed',
};

/** The hub events webhooks listen to, and the event types each can give. */
export const HUB_SOURCES: Readonly<Record<string, readonly WebhookEventType[]>> = {
  messageRouted: ['message.chat', 'message.headline', 'message.control'],
  // A room's message once, as the room took it (archived, numbered), whether or not anyone is in the room.
  groupMessage: ['message.groupchat', 'message.control'],
  messageStored: ['message.stored'],
  presenceChanged: ['presence.online', 'presence.offline'],
  sessionStarted: ['session.started'],
  sessionEnded: ['session.ended'],
  groupMemberAdded: ['group.member_added'],
  groupMemberRemoved: ['group.member_removed'],
};

const newId = (): string => `evt_${uuidv7().replace(/-/g, '')}`;

/** A room message's event id, from the room and its archive id: a message is one event however it is observed. */
function roomEventId(room: string, archiveId: string): string {
  return `evt_${createHash('sha256').update(`${room}\u0000${archiveId}`).digest('base64url').slice(0, 32)}`;
}

function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

interface MessageParts {
  readonly body: string | undefined;
  readonly thread: string | undefined;
  readonly subject: string | undefined;
  readonly control: Element | undefined;
}

function partsOf(stanza: string): MessageParts | undefined {
  let message: Element;
  try {
    message = parseStrictXml(stanza);
  } catch {
    return undefined;
  }
  return {
    body: message.getChildText('body') ?? undefined,
    thread: message.getChildText('thread') ?? undefined,
    subject: message.getChildText('subject') ?? undefined,
    control: message.getChild('control', NS_CONTROL),
  };
}

function messageBase(facts: StanzaFacts, type: WebhookEventType, parts: MessageParts): Omit<WebhookEvent, 'id'> {
  const metadata: Record<string, unknown> = { stanza_type: facts.type };
  if (facts.id !== undefined) metadata.stanza_id = facts.id;
  if (parts.thread !== undefined) metadata.thread = parts.thread;
  if (parts.subject !== undefined) metadata.subject = parts.subject;
  return {
    type,
    time: facts.at.toISOString(),
    node: facts.node,
    from: facts.from,
    to: facts.to,
    ...(parts.body !== undefined && parts.body !== '' ? { body: parts.body } : {}),
    metadata,
  };
}

/**
 * A routed message as a webhook event, or none: `message.chat` is a one-to-one message (`chat` or
 * `normal`) with a non-empty body; a message carrying a control element (the business API's) is
 * `message.control`; a `headline` with a body or subject is `message.headline`. Chat states, receipts,
 * the member notices of rooms (bodiless headlines) and other bodiless messages give no event. Room
 * messages come from `groupMessage` instead: each occupant's copy routed is not an event of its own.
 */
export function routedMessageEvent(facts: MessageRouted, domain: string): WebhookEvent | undefined {
  if (facts.type === 'groupchat') return undefined;
  const parts = partsOf(facts.stanza);
  if (!parts) return undefined;
  if (parts.control) return controlEvent(messageBase(facts, 'message.control', parts), parts.control, newId());
  const hasBody = parts.body !== undefined && parts.body.trim() !== '';
  switch (facts.type) {
    case 'headline':
      if (!hasBody && parts.subject === undefined) return undefined;
      return { id: newId(), ...messageBase(facts, 'message.headline', parts) };
    case 'chat':
    case 'normal':
      // From the domain itself with no control element: a server notice, not a conversation.
      if (!hasBody || bareOf(facts.from) === domain) return undefined;
      return { id: newId(), ...messageBase(facts, 'message.chat', parts) };
    default:
      return undefined;
  }
}

function controlEvent(base: Omit<WebhookEvent, 'id'>, control: Element, id: string): WebhookEvent {
  const attrs = control.attrs as Record<string, string | undefined>;
  let data: unknown;
  try {
    data = JSON.parse(control.getText());
  } catch {
    data = control.getText();
  }
  return {
    id,
    ...base,
    metadata: { ...base.metadata, control: { type: attrs.type, application: attrs.app, id: attrs.id, ts: attrs.ts, priority: attrs.priority, data } },
  };
}

/**
 * A message a room took (an occupant's, or the business API's pushed to a group) as one event, with
 * the room and its sequence number: `message.groupchat`, or `message.control` when it carries the
 * API's control element. `from` is the sender's occupant JID (the room's own JID for the API), `to` the
 * room; the real sender is in the metadata. A bodiless message (a chat state to the room) gives none.
 */
export function groupMessageEvent(facts: GroupMessage): WebhookEvent | undefined {
  const parts = partsOf(facts.stanza);
  if (!parts) return undefined;
  const room = facts.room.toLowerCase();
  const base = messageBase({ ...facts, to: room, type: 'groupchat' }, 'message.groupchat', parts);
  const roomed = {
    ...base,
    room,
    seq: facts.seq,
    metadata: { ...base.metadata, room_stanza_id: facts.archiveId, sender: facts.sender },
  };
  const id = roomEventId(room, facts.archiveId);
  if (parts.control) return controlEvent({ ...roomed, type: 'message.control' }, parts.control, id);
  if (parts.body === undefined || parts.body.trim() === '') return undefined;
  return { id, ...roomed };
}

export function storedMessageEvent(facts: MessageStored): WebhookEvent | undefined {
  const parts = partsOf(facts.stanza);
  if (!parts) return undefined;
  return { id: newId(), ...messageBase(facts, 'message.stored', parts) };
}

export function presenceEvent(facts: PresenceChanged): WebhookEvent {
  const metadata: Record<string, unknown> = { priority: facts.priority };
  if (facts.show !== undefined) metadata.show = facts.show;
  if (facts.status !== undefined) metadata.status = facts.status;
  return {
    id: newId(),
    type: facts.available ? 'presence.online' : 'presence.offline',
    time: facts.at.toISOString(),
    node: facts.node,
    from: facts.jid,
    to: bareOf(facts.jid),
    metadata,
  };
}

export function sessionEvent(facts: SessionStarted | SessionEnded, ended: boolean): WebhookEvent {
  const metadata: Record<string, unknown> = { resource: facts.resource, stream_id: facts.streamId };
  if (ended) {
    const end = facts as SessionEnded;
    metadata.reason = end.reason;
    if (end.condition !== undefined) metadata.condition = end.condition;
  }
  return {
    id: newId(),
    type: ended ? 'session.ended' : 'session.started',
    time: facts.at.toISOString(),
    node: facts.node,
    from: facts.jid,
    to: bareOf(facts.jid),
    metadata,
  };
}

export function groupMemberEvent(facts: GroupMemberFacts, added: boolean): WebhookEvent | undefined {
  if (typeof facts.room !== 'string' || typeof facts.jid !== 'string') return undefined;
  const metadata: Record<string, unknown> = {};
  if (facts.by !== undefined) metadata.by = facts.by;
  if (facts.affiliation !== undefined) metadata.affiliation = facts.affiliation;
  if (!added) metadata.reason = REMOVAL_REASONS[facts.reason ?? 'affiliation'] ?? 'affiliation_changed';
  const room = facts.room.toLowerCase();
  return {
    id: newId(),
    type: added ? 'group.member_added' : 'group.member_removed',
    time: (facts.at instanceof Date ? facts.at : new Date()).toISOString(),
    node: facts.node,
    from: facts.jid,
    to: room,
    room,
    metadata,
  };
}

/** One hub event as a webhook event (undefined: nothing a sink subscribes to). */
export function webhookEventOf(source: string, payload: unknown, domain: string): WebhookEvent | undefined {
  switch (source) {
    case 'messageRouted':
      return routedMessageEvent(payload as GatewayEvents['messageRouted'], domain);
    case 'groupMessage':
      return groupMessageEvent(payload as GatewayEvents['groupMessage']);
    case 'messageStored':
      return storedMessageEvent(payload as GatewayEvents['messageStored']);
    case 'presenceChanged':
      return presenceEvent(payload as GatewayEvents['presenceChanged']);
    case 'sessionStarted':
      return sessionEvent(payload as GatewayEvents['sessionStarted'], false);
    case 'sessionEnded':
      return sessionEvent(payload as GatewayEvents['sessionEnded'], true);
    case 'groupMemberAdded':
      return groupMemberEvent(payload as GroupMemberFacts, true);
    case 'groupMemberRemoved':
      return groupMemberEvent(payload as GroupMemberFacts, false);
    default:
      return undefined;
  }
}
