import { Element } from 'ltx';
import type { AffiliationRemoval } from '../store/affiliation-removal';
import type { ArchiveReceipt } from '../store/archive-store';
import type { Affiliation, RoomConfig } from '../store/room-store';
import { leaveEveryRoom } from './account-departure';
import { membershipChanged } from './group-events';
import { viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_MUC_OWNER } from './namespaces';
import { isMember } from './permissions';
import { changeAffiliation } from './room-admin';
import { broadcastGroupMessage } from './room-messages';
import { destroyRoom } from './room-owner';

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
export class GroupService implements AffiliationRemoval {
  constructor(private readonly runtime: MucRuntime) {}

  /** The bare JID that stands for the service (the XMPP domain): it owns groups created without an owner. */
  get serviceJid(): string {
    return this.runtime.serviceJid;
  }

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

  /**
   * Destroys the group as its owner would (XEP-0045 §10.9: occupants get the destroy presence; each
   * member is reported removed, without `by`: the API is not a user); false when there is none.
   */
  async destroy(id: string, reason: string): Promise<boolean> {
    const { runtime } = this;
    return runtime.rooms.exclusive(id, async () => {
      const view = await viewRoom(runtime, id);
      if (!view || !isGroup(view.state.config)) return false;
      const destroy = new Element('destroy', { xmlns: NS_MUC_OWNER });
      destroy.c('reason').t(reason);
      await destroyRoom(runtime, view, destroy, undefined);
      return true;
    });
  }

  /** The groups `jid` is a member of, in id order: the rooms of the store's per-user index that are groups. */
  async groupsOf(jid: string): Promise<Membership[]> {
    const { rooms } = this.runtime;
    const held = (await rooms.affiliationsOf(jid)).filter(({ affiliation }) => isMember(affiliation));
    const found = await Promise.all(
      held.map(async ({ room, affiliation }) => {
        const state = await rooms.room(room);
        return state && isGroup(state.config) ? { id: room, jid: this.jidOf(room), name: state.config.name, affiliation } : undefined;
      }),
    );
    return found.filter((m): m is Membership => m !== undefined);
  }

  /**
   * Part of removing an account (Stores.removeAccount): `jid` leaves every room it has an affiliation
   * in, groups or not, as account-departure.ts describes; a room it alone owned passes to the service.
   */
  async removeAffiliations(jid: string): Promise<void> {
    await leaveEveryRoom(this.runtime, jid);
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
