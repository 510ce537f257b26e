/**
 * What happened on this node, as later features (archives, webhooks, statistics) observe it. Payloads
 * are plain data: addresses as strings, the stanza serialised when it was emitted and times as Date, so
 * a subscriber that runs later, or ships the payload elsewhere, sees exactly what happened then.
 */

/** Common to every event: where and when it happened. */
export interface EventOrigin {
  /** The node that emitted it ('local' when the node runs alone). */
  readonly node: string;
  readonly at: Date;
}

/** A stanza as it was when the event was emitted. */
export interface StanzaFacts extends EventOrigin {
  /** The sender's JID as stamped by the server (RFC 6120 §8.1.2.1). */
  readonly from: string;
  /** The address the stanza was routed to. */
  readonly to: string;
  /** The stanza's `type` attribute ('normal' for a message without one, RFC 6121 §5.2.2). */
  readonly type: string;
  readonly id: string | undefined;
  /** The stanza, serialised. */
  readonly stanza: string;
}

/** A message reached one or more resources of a user of this domain, on this node or on another. */
export interface MessageRouted extends StanzaFacts {
  /** The full JIDs it was handed to. */
  readonly recipients: readonly string[];
  /** Whether at least one recipient's session lives on another node (the bus carried it). */
  readonly remote: boolean;
}

/** A message went to offline storage (XEP-0160) because no resource could take it. */
export type MessageStored = StanzaFacts;

/** An error went back to the sender instead of delivering the stanza (RFC 6120 §8.3). */
export interface MessageBounced extends StanzaFacts {
  /** The RFC 6120 §8.3.3 condition of the error sent back. */
  readonly condition: string;
}

/** A full JID became available or unavailable (RFC 6121 §4). */
export interface PresenceChanged extends EventOrigin {
  readonly jid: string;
  readonly available: boolean;
  /** RFC 6121 §4.7.2: show and status of an available presence, when given. */
  readonly show: string | undefined;
  readonly status: string | undefined;
  readonly priority: number;
}

/** A resource was bound: the session is an XMPP session from here on (RFC 6120 §7). */
export interface SessionStarted extends EventOrigin {
  /** The bound full JID. */
  readonly jid: string;
  readonly resource: string;
  /** The stream id (the correlation id in the logs). */
  readonly streamId: string;
  readonly remoteAddress: string | undefined;
}

/** Why a bound session ended. */
export type SessionEndReason =
  | 'terminate' // the client ended it
  | 'inactivity' // the client went away
  | 'shutdown' // this node is stopping
  | 'error' // a transport error or a stream error the server raised
  | 'replaced'; // another session bound the same resource (RFC 6120 §7.7.2.2)

export interface SessionEnded extends SessionStarted {
  readonly reason: SessionEndReason;
  /** The stream error the server closed the stream with (RFC 6120 §4.9.3), when it did. */
  readonly condition: string | undefined;
}

/** One roster item as RFC 6121 §2.1.2 describes it. */
export interface RosterItemFacts {
  readonly jid: string;
  readonly name: string | undefined;
  readonly groups: readonly string[];
  readonly subscription: 'none' | 'to' | 'from' | 'both';
  /** A subscription request from the user is pending (RFC 6121 §2.1.2.2). */
  readonly ask: boolean;
  /** The user pre-approved the contact's subscription (RFC 6121 §3.4). */
  readonly approved: boolean;
}

/** A user's roster gained, changed or lost an item (RFC 6121 §2.1.6: whenever a push goes out). */
export interface RosterChanged extends EventOrigin {
  /** The roster's owner (bare JID). */
  readonly user: string;
  /** The item after the change; undefined when it was removed. */
  readonly item: RosterItemFacts | undefined;
  /** The contact's bare JID. */
  readonly contact: string;
  /** The roster version after the change (RFC 6121 §2.6). */
  readonly version: number;
}

/**
 * A room of the MUC service (XEP-0045) took a message: archived with the room's next sequence number,
 * then delivered to every occupant. Emitted once per message, on the node that took it, whatever the
 * number of occupants (each delivery is not an event of its own).
 */
export interface GroupMessage extends EventOrigin {
  /** The room's bare JID. */
  readonly room: string;
  /** The sender's occupant JID (room@service/nick). */
  readonly from: string;
  /** The sender's real bare JID. */
  readonly sender: string;
  /** The room's sequence number of the message, and its archive id (the XEP-0359 stanza-id). */
  readonly seq: number;
  readonly archiveId: string;
  readonly id: string | undefined;
  /** The message as occupants get it (to the room), serialised. */
  readonly stanza: string;
  /** How many occupants it was sent to. */
  readonly occupants: number;
}

/** Why a membership changed. */
export type GroupMemberChangeReason =
  | 'affiliation' // an affiliation was set: by an owner or admin, an invitation, the API, the room's creation
  | 'destroyed' // the room was destroyed (XEP-0045 §10.9, the API's group deletion, a temporary room emptied)
  | 'account-removed'; // the member's account was removed

/** A user became a member of a room (member, admin or owner: a group's member), or stopped being one. */
export interface GroupMemberChange extends EventOrigin {
  /** The room's bare JID. */
  readonly room: string;
  /** The member's bare JID. */
  readonly jid: string;
  /** The bare JID of whoever made the change, when a user did. */
  readonly by: string | undefined;
  /** The affiliation after the change ('none' or 'outcast' once removed). */
  readonly affiliation: string;
  /** Why it changed. */
  readonly reason: GroupMemberChangeReason;
}

/** Every event the hub carries, by name. */
export interface GatewayEvents {
  messageRouted: MessageRouted;
  messageStored: MessageStored;
  messageBounced: MessageBounced;
  presenceChanged: PresenceChanged;
  sessionStarted: SessionStarted;
  sessionEnded: SessionEnded;
  rosterChanged: RosterChanged;
  groupMessage: GroupMessage;
  groupMemberAdded: GroupMemberChange;
  groupMemberRemoved: GroupMemberChange;
}

export type EventName = keyof GatewayEvents;
