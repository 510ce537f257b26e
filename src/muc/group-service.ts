import { Element } from 'ltx';
import { parseJid } from '../base/jid';
import type { ArchiveReceipt } from '../store/archive-store';
import type { Affiliation, RoomConfig } from '../store/room-store';
import { membershipChanged } from './group-events';
import { viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_MUC_OWNER } from './namespaces';
import { isMember } from './permissions';
import { changeAffiliation } from './room-admin';
import { broadcastGroupMessage } from './room-messages';
import { ownerSet } from './room-owner';

/** A group as the business API shows it: a members-only persistent room and its member list. */
export interface Group {
  /** The room's local part. */
  readonly id: string;
  /** The room's bare JID. */
  readonly jid: string;
  /** muc#roomconfig_roomname */
  readonly name: string;
  /** Every bare JID with membership (member, admin, owner), the owners first. */
  readonly members: ReadonlyArray<{ readonly jid: string; readonly affiliation: Affiliation }>;
}

/** A group one user belongs to, and how. */
export interface Membership {
  readonly id: string;
  readonly jid: string;
  readonly name: string;
  readonly affiliation: Affiliation;
}

export type MemberChange = 'no-group' | 'changed' | 'unchanged' | 'not-member' | 'last-owner';

/** A room is a group when it is members-only and persistent (docs/groups-and-history.md). */
export function isGroup(config: RoomConfig): boolean {
  return config.membersOnly && config.persistent;
}

const RANK: Record<Affiliation, number> = { owner: 0, admin: 1, member: 2, none: 3, outcast: 4 };

function groupOf(view: RoomView): Group {
  const members = [...view.affiliations]
    .filter(([, affiliation]) => isMember(affiliation))
    .map(([jid, affiliation]) => ({ jid, affiliation }))
    .sort((a, b) => RANK[a.affiliation] - RANK[b.affiliation] || (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  return { id: view.name, jid: view.jid, name: view.state.config.name, members };
}

/**
 * The groups of the MUC service as the business API drives them, from any node: every change runs as
 * the room's exclusive work (RoomStore.exclusive, the room lock in cluster mode) and goes through the
 * functions the XEP-0045 protocol uses — affiliation changes (presence to the occupants they touch,
 * groupMemberAdded/Removed), §10.9 destruction, and the room's groupchat path (archive, occupants,
 * member notices) — so a client cannot tell an API change from an owner's.
 */
export class GroupService {
  constructor(
    private readonly runtime: MucRuntime,
    /** The bare JID that stands for the service (the XMPP domain): it owns groups created without an owner. */
    readonly serviceJid: string,
  ) {}

  /** The group's room JID. */
  jidOf(id: string): string {
    return `${id}@${this.runtime.domain}`;
  }

  /** A new group owned by `owner` (default: the service), with `members`; undefined when a room of that name exists. */
  async create(id: string, options: { name: string; owner?: string; members: readonly string[]; by?: string }): Promise<Group | undefined> {
    const { runtime } = this;
    return runtime.rooms.exclusive(id, async () => {
      // Hidden: a group is found through its members' lists (GET /users/{u}/groups), not in disco#items.
      const config: RoomConfig = { ...runtime.defaults, name: options.name, persistent: true, membersOnly: true, public: false };
      const owner = options.owner ?? this.serviceJid;
      if (!(await runtime.rooms.create(id, config, owner))) return undefined;
      const jid = this.jidOf(id);
      if (options.owner !== undefined) membershipChanged(runtime, jid, owner, 'none', 'owner', options.by);
      for (const member of options.members) {
        if (member === owner) continue;
        const view = await viewRoom(runtime, id);
        if (!view) return undefined;
        await changeAffiliation(runtime, view, member, 'member', undefined, undefined);
        membershipChanged(runtime, jid, member, 'none', 'member', options.by);
      }
      const view = await viewRoom(runtime, id);
      return view && groupOf(view);
    });
  }

  /** The group, or undefined when there is no such room or the room is not a group. */
  async get(id: string): Promise<Group | undefined> {
    const view = await viewRoom(this.runtime, id);
    return view && isGroup(view.state.config) ? groupOf(view) : undefined;
  }

  /**
   * Makes `jid` a member (an outcast too) or ends its membership (affiliation none: an occupant is
   * removed with 321, XEP-0045 §9.4). Owners and admins are members already; the last owner stays.
   */
  async setMember(id: string, jid: string, member: boolean, by?: string): Promise<MemberChange> {
    const { runtime } = this;
    return runtime.rooms.exclusive(id, async () => {
      const view = await viewRoom(runtime, id);
      if (!view || !isGroup(view.state.config)) return 'no-group';
      const current = view.affiliations.get(jid) ?? 'none';
      if (member && isMember(current)) return 'unchanged';
      if (!member && !isMember(current)) return 'not-member';
      // §10.6: a room always keeps an owner.
      const owners = [...view.affiliations].filter(([other, a]) => a === 'owner' && other !== jid);
      if (!member && current === 'owner' && owners.length === 0) return 'last-owner';
      const next: Affiliation = member ? 'member' : 'none';
      await changeAffiliation(runtime, view, jid, next, undefined, undefined);
      membershipChanged(runtime, view.jid, jid, current, next, by);
      return 'changed';
    });
  }

  /** Destroys the group as its owner would (XEP-0045 §10.9: occupants get the destroy presence); false when there is none. */
  async destroy(id: string, reason: string): Promise<boolean> {
    const { runtime } = this;
    return runtime.rooms.exclusive(id, async () => {
      const view = await viewRoom(runtime, id);
      if (!view || !isGroup(view.state.config)) return false;
      const owner = [...view.affiliations].find(([, a]) => a === 'owner')?.[0] ?? this.serviceJid;
      const from = parseJid(owner);
      const to = parseJid(view.jid);
      if (!from || !to) return false;
      const query = new Element('query', { xmlns: NS_MUC_OWNER });
      query.c('destroy').c('reason').t(reason);
      await ownerSet(runtime, from, to, query);
      return true;
    });
  }

  /** The groups `jid` is a member of (a scan of the service's rooms: one affiliation read per group). */
  async groupsOf(jid: string): Promise<Membership[]> {
    const { rooms } = this.runtime;
    const groups = (await rooms.rooms()).filter((room) => isGroup(room.config));
    const found = await Promise.all(
      groups.map(async ({ room, config }) => {
        const affiliation = await rooms.affiliation(room, jid);
        return isMember(affiliation) ? { id: room, jid: this.jidOf(room), name: config.name, affiliation } : undefined;
      }),
    );
    return found.filter((m): m is Membership => m !== undefined);
  }

  /**
   * A groupchat message from the room itself (its bare JID) on behalf of `sender` (the service's JID
   * for the business API): archived with the room's next sequence number, sent to the occupants, the
   * member notices. `build` makes the message for the room's JID. Undefined when there is no such group.
   */
  async post(id: string, build: (room: string) => Element, sender: string = this.serviceJid): Promise<ArchiveReceipt | undefined> {
    const { runtime } = this;
    return runtime.rooms.exclusive(id, async () => {
      const view = await viewRoom(runtime, id);
      if (!view || !isGroup(view.state.config)) return undefined;
      const message = build(view.jid);
      message.attrs.from = view.jid;
      delete message.attrs.to;
      return broadcastGroupMessage(runtime, view, message, { sender });
    });
  }
}
