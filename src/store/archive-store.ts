/**
 * The message archive (XEP-0313) of users and rooms, with a sequence number per conversation.
 *
 * An archive belongs to an owner: a user's bare JID, or a room's JID. A message of a conversation is
 * appended once, into every owner's archive at the same time (a chat between two users of this domain
 * lands in both users' archives; a groupchat message in the room's), and gets one sequence number of
 * that conversation and one archive id, the same in every copy.
 *
 * Sequence numbers: per conversation, starting at 1, one higher for each appended message, assigned
 * atomically (a transaction in SQLite, one INCR in a Lua step in Redis), so every node of a cluster
 * sees the same order. A number is never given twice, even after the messages are pruned or deleted.
 *
 * Archive ids: `<conversation hash>-<seq>` (src/store/archive-ids.ts), e.g. `3fa9c01be2-42`: unique
 * within an owner's archive, the same for a message in every owner's copy, and carrying the sequence
 * number, so "everything after id X" is one indexed query. They are the XEP-0359
 * `<stanza-id by='<owner>' id='…'/>` of the live message and the XEP-0313 result ids.
 */

/** The types of message that are archived: errors and headlines never are. */
export type ArchivedType = 'chat' | 'normal' | 'groupchat';

/** One archive a message goes into, and the other party as that archive sees it. */
export interface ArchiveCopy {
  /** The archive's owner: a user's bare JID, or a room's JID. */
  readonly owner: string;
  /**
   * The other party, the XEP-0313 `with` of this copy: the contact's bare JID in a user's archive;
   * in a room's archive, the sender's occupant JID (room@service/nick).
   */
  readonly with: string;
}

/** A message to archive. */
export interface ArchiveEntry {
  /** The conversation: chatConversation(a, b) for two users, roomConversation(room) for a room. */
  readonly conversation: string;
  /** Every archive the message goes into (at least one); each gets the same seq and archive id. */
  readonly copies: readonly ArchiveCopy[];
  readonly from: string;
  readonly to: string;
  readonly type: ArchivedType;
  /** The sender's XEP-0359 origin-id, when it gave one. */
  readonly originId?: string;
  readonly body?: string;
  /** The <message/> as routed, serialised (without our own stanza-ids). */
  readonly stanza: string;
  /** When it was archived: now, when not given. */
  readonly ts?: Date;
}

/** What an append gave the message. */
export interface ArchiveReceipt {
  readonly conversation: string;
  readonly seq: number;
  readonly archiveId: string;
  readonly ts: Date;
}

/** A message as one owner's archive holds it. */
export interface ArchivedMessage extends ArchiveReceipt {
  readonly owner: string;
  readonly with: string;
  readonly from: string;
  readonly to: string;
  readonly type: ArchivedType;
  readonly originId?: string;
  readonly body?: string;
  readonly stanza: string;
}

/**
 * A XEP-0313 query of one owner's archive. Every filter narrows the result; the page is taken from
 * the oldest matching message forward (optionally after `after`), or with `before` from the newest
 * backward (XEP-0059 §2.5: `before: ''` is the last page).
 */
export interface ArchiveQuery {
  readonly owner: string;
  /** Only messages with this party (the copy's `with`, compared exactly). */
  readonly with?: string;
  /** Only messages archived at or after this time. */
  readonly start?: Date;
  /** Only messages archived at or before this time. */
  readonly end?: Date;
  /** XEP-0313 §4.1.1 after-id: only messages after this one (exclusive). */
  readonly afterId?: string;
  /** XEP-0313 §4.1.1 before-id: only messages before this one (exclusive). */
  readonly beforeId?: string;
  /** XEP-0313 §4.1.1 ids: only these messages. */
  readonly ids?: readonly string[];
  /** XEP-0059 max: at most this many messages in the page. */
  readonly limit: number;
  /** XEP-0059 after: the page starts after this id. */
  readonly after?: string;
  /** XEP-0059 before: the page ends before this id, or is the last page when ''. */
  readonly before?: string;
}

/** One page of a query. */
export interface ArchivePage {
  /** The page, oldest first (also when paging backward). */
  readonly messages: readonly ArchivedMessage[];
  /**
   * XEP-0313 §4.3 `<fin complete='true'/>`: the page reaches the end of the results in the direction
   * of paging (the newest match going forward, the oldest going backward).
   */
  readonly complete: boolean;
  /** XEP-0059 count, where the backend counts cheaply (the owner's whole archive, no filter). */
  readonly count?: number;
}

/** An id named by the query (after-id, before-id, RSM after or before) is not in the archive: XEP-0313 §6.1 item-not-found. */
export interface UnknownArchiveId {
  readonly unknownId: string;
}

/** The first and last message of an archive (XEP-0313 §5.1 metadata). */
export interface ArchiveBounds {
  readonly first?: { readonly archiveId: string; readonly ts: Date };
  readonly last?: { readonly archiveId: string; readonly ts: Date };
}

/** How much each owner's archive keeps (MAM_RETENTION_COUNT, MAM_RETENTION_DAYS); 0 means unbounded. */
export interface ArchiveRetention {
  /** The newest this many messages per owner are kept. */
  readonly maxPerOwner: number;
  /** Messages older than this are dropped. */
  readonly maxAgeMs: number;
}

export interface ArchiveStore {
  /** Archives a message in each of its copies' archives, with the conversation's next sequence number. */
  append(entry: ArchiveEntry): Promise<ArchiveReceipt>;
  /** A XEP-0313 page of one owner's archive, or the id it names that the archive does not hold. */
  query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId>;
  /**
   * The messages of one conversation in an owner's archive with a sequence number above `afterSeq`,
   * oldest first, at most `limit` ("everything after N": history pulls, members catching up).
   */
  since(owner: string, conversation: string, afterSeq: number, limit: number): Promise<ArchivedMessage[]>;
  /** The last sequence number given in a conversation (0 before the first message). */
  lastSeq(conversation: string): Promise<number>;
  /** The first and last message of an owner's archive. */
  bounds(owner: string): Promise<ArchiveBounds>;
  /** Drops messages beyond the retention limits (by count and by age) in every archive. */
  prune(now: Date): Promise<number>;
  /** Drops an owner's whole archive (the account or room is being removed). */
  deleteOwner(owner: string): Promise<void>;
  /** Writes whatever appends are still pending (a backend that commits in groups); before closing. */
  flush(): Promise<void>;
}

/** The conversation of two users' chats: both bare JIDs, sorted, so each pair has one key. */
export function chatConversation(a: string, b: string): string {
  return a < b ? `chat:${a}|${b}` : `chat:${b}|${a}`;
}

/** The conversation of a room's groupchat messages. */
export function roomConversation(room: string): string {
  return `room:${room}`;
}
