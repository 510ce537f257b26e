import { KeyedQueue } from './keyed-queue';

/**
 * Multi-user chat rooms (XEP-0045) as the stores keep them: each room's configuration, subject,
 * affiliations and occupants. In cluster mode every node reads and writes the same rooms (Redis), so
 * any node serves any room; `exclusive` is how changes to one room are put in one order across nodes.
 */

/** XEP-0045 §5.2: a user's long-lived standing in a room. 'none' is never stored. */
export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

/** XEP-0045 §5.1: an occupant's standing while in the room. */
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

/** Who may send private messages to occupants (muc#roomconfig_allowpm). */
export type PrivateMessagePolicy = 'anyone' | 'participants' | 'moderators' | 'none';

/**
 * What a member who is not in the room hears of each message: nothing, a small notice (room, sequence
 * number, sender), or the notice with the message itself.
 */
export type MemberNotices = 'off' | 'notice' | 'message';

/** The options of a room, each one a field of the XEP-0045 §10.2 configuration form (but `locked`). */
export interface RoomConfig {
  /** muc#roomconfig_roomname */
  readonly name: string;
  /** muc#roomconfig_roomdesc */
  readonly description: string;
  /** muc#roomconfig_persistentroom: kept when the last occupant leaves. */
  readonly persistent: boolean;
  /** muc#roomconfig_membersonly: only members (and above) may enter. */
  readonly membersOnly: boolean;
  /** muc#roomconfig_moderatedroom: visitors may not speak. */
  readonly moderated: boolean;
  /** muc#roomconfig_publicroom: listed in disco#items of the service. */
  readonly public: boolean;
  /** muc#roomconfig_changesubject: participants may change the subject (moderators always may). */
  readonly changeSubject: boolean;
  /** muc#roomconfig_whois: who sees occupants' real JIDs. */
  readonly whois: 'moderators' | 'anyone';
  /** muc#roomconfig_historylength: messages sent as discussion history on entering. */
  readonly historyLength: number;
  /** muc#roomconfig_allowpm */
  readonly allowPm: PrivateMessagePolicy;
  /** muc#roomconfig_allowinvites: participants may invite (admins and owners always may). */
  readonly allowInvites: boolean;
  /** An invitation from an admin or owner makes the invitee a member (members-only rooms). */
  readonly invitesGrantMembership: boolean;
  /** What members outside the room hear of each message. */
  readonly memberNotices: MemberNotices;
  /** muc#roomconfig_passwordprotectedroom: entering takes the room's password. */
  readonly passwordProtected: boolean;
  /** muc#roomconfig_roomsecret: that password ('' when there is none). */
  readonly password: string;
  /**
   * XEP-0045 §10.1.1: a room a user created by entering it is locked (only its owners may enter) until
   * an owner submits the configuration form, an empty one for an instant room. Not a form field.
   */
  readonly locked: boolean;
}

/** The defaults of a new room: an open, temporary room anyone may chat in at once. */
export const DEFAULT_ROOM_CONFIG: RoomConfig = {
  name: '',
  description: '',
  persistent: false,
  membersOnly: false,
  moderated: false,
  public: true,
  changeSubject: false,
  whois: 'moderators',
  historyLength: 20,
  allowPm: 'anyone',
  allowInvites: false,
  invitesGrantMembership: true,
  memberNotices: 'notice',
  passwordProtected: false,
  password: '',
  locked: false,
};

/** XEP-0045 §8.1: the subject, who set it and when. */
export interface RoomSubject {
  readonly text: string;
  /** The nick of the occupant who set it ('' for the room itself). */
  readonly nick: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

export interface RoomState {
  readonly config: RoomConfig;
  readonly subject: RoomSubject | undefined;
}

/** Someone in the room: one full JID under one nick. */
export interface Occupant {
  readonly nick: string;
  /** The occupant's real full JID. */
  readonly jid: string;
  readonly role: Role;
  /** The cluster node the occupant's session lives on ('local' when the node runs alone). */
  readonly node: string;
  /** The occupant's last presence as sent to the room (show, status), serialised. */
  readonly presence?: string;
}

/** A room a bare JID has an affiliation in, and which. */
export interface HeldAffiliation {
  /** The room's name (its local part). */
  readonly room: string;
  readonly affiliation: Affiliation;
}

export interface RoomStore {
  /** The room's configuration and subject; undefined when there is no such room. */
  room(room: string): Promise<RoomState | undefined>;
  /** Creates a room owned by `owner` (a bare JID); false when it exists already. */
  create(room: string, config: RoomConfig, owner: string): Promise<boolean>;
  saveConfig(room: string, config: RoomConfig): Promise<void>;
  setSubject(room: string, subject: RoomSubject | undefined): Promise<void>;
  /** Removes the room with its affiliations and occupants. */
  destroy(room: string): Promise<void>;
  /** Every room with its configuration, by name. */
  rooms(): Promise<Array<{ readonly room: string; readonly config: RoomConfig }>>;

  /** Every affiliation other than 'none', by bare JID. */
  affiliations(room: string): Promise<Map<string, Affiliation>>;
  /** A bare JID's affiliation ('none' when it has none). */
  affiliation(room: string, jid: string): Promise<Affiliation>;
  /** Sets a bare JID's affiliation; 'none' removes it. A room that does not exist is left alone. */
  setAffiliation(room: string, jid: string, affiliation: Affiliation): Promise<void>;
  /**
   * Every room a bare JID has an affiliation in (outcast included), by room name: read from a per-user
   * index the store keeps with every affiliation change, so it costs the user's rooms, not the service's.
   */
  affiliationsOf(jid: string): Promise<HeldAffiliation[]>;

  /** The occupants, in the order they entered. */
  occupants(room: string): Promise<Occupant[]>;
  /** Adds the occupant, or replaces the one with the same nick. */
  putOccupant(room: string, occupant: Occupant): Promise<void>;
  removeOccupant(room: string, nick: string): Promise<void>;
  /** The rooms a full JID is an occupant of (to take a vanished session out of every room). */
  roomsOf(jid: string): Promise<string[]>;

  /**
   * Runs `work` while no other call of `exclusive` for the same room runs, on this node or on any
   * other sharing the store: the one order of everything that changes a room (and of its broadcasts).
   */
  exclusive<T>(room: string, work: () => Promise<T>): Promise<T>;
}

interface MemoryRoom {
  config: RoomConfig;
  subject: RoomSubject | undefined;
  affiliations: Map<string, Affiliation>;
  occupants: Map<string, Occupant>;
}

/** Rooms in this process only (tests, STORAGE=memory). */
export class MemoryRoomStore implements RoomStore {
  private readonly data = new Map<string, MemoryRoom>();
  /** Bare JID → the rooms it has an affiliation in. */
  private readonly affiliated = new Map<string, Set<string>>();
  private readonly queue = new KeyedQueue();

  async room(room: string): Promise<RoomState | undefined> {
    const found = this.data.get(room);
    return found && { config: found.config, subject: found.subject };
  }

  async create(room: string, config: RoomConfig, owner: string): Promise<boolean> {
    if (this.data.has(room)) return false;
    this.data.set(room, { config, subject: undefined, affiliations: new Map([[owner, 'owner']]), occupants: new Map() });
    this.index(owner, room, true);
    return true;
  }

  async saveConfig(room: string, config: RoomConfig): Promise<void> {
    const found = this.data.get(room);
    if (found) found.config = config;
  }

  async setSubject(room: string, subject: RoomSubject | undefined): Promise<void> {
    const found = this.data.get(room);
    if (found) found.subject = subject;
  }

  async destroy(room: string): Promise<void> {
    for (const jid of this.data.get(room)?.affiliations.keys() ?? []) this.index(jid, room, false);
    this.data.delete(room);
  }

  async rooms(): Promise<Array<{ room: string; config: RoomConfig }>> {
    return [...this.data].map(([room, { config }]) => ({ room, config })).sort((a, b) => (a.room < b.room ? -1 : 1));
  }

  async affiliations(room: string): Promise<Map<string, Affiliation>> {
    return new Map(this.data.get(room)?.affiliations);
  }

  async affiliation(room: string, jid: string): Promise<Affiliation> {
    return this.data.get(room)?.affiliations.get(jid) ?? 'none';
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation): Promise<void> {
    const found = this.data.get(room);
    if (!found) return;
    if (affiliation === 'none') found.affiliations.delete(jid);
    else found.affiliations.set(jid, affiliation);
    this.index(jid, room, affiliation !== 'none');
  }

  async affiliationsOf(jid: string): Promise<HeldAffiliation[]> {
    return [...(this.affiliated.get(jid) ?? [])]
      .sort()
      .map((room) => ({ room, affiliation: this.data.get(room)?.affiliations.get(jid) ?? 'none' }))
      .filter((held) => held.affiliation !== 'none');
  }

  private index(jid: string, room: string, held: boolean): void {
    let rooms = this.affiliated.get(jid);
    if (held) {
      if (!rooms) this.affiliated.set(jid, (rooms = new Set()));
      rooms.add(room);
    } else if (rooms) {
      rooms.delete(room);
      if (rooms.size === 0) this.affiliated.delete(jid);
    }
  }

  async occupants(room: string): Promise<Occupant[]> {
    return [...(this.data.get(room)?.occupants.values() ?? [])];
  }

  async putOccupant(room: string, occupant: Occupant): Promise<void> {
    this.data.get(room)?.occupants.set(occupant.nick, occupant);
  }

  async removeOccupant(room: string, nick: string): Promise<void> {
    this.data.get(room)?.occupants.delete(nick);
  }

  async roomsOf(jid: string): Promise<string[]> {
    return [...this.data].filter(([, room]) => [...room.occupants.values()].some((o) => o.jid === jid)).map(([name]) => name);
  }

  exclusive<T>(room: string, work: () => Promise<T>): Promise<T> {
    return this.queue.run(room, work);
  }
}
