import type { GroupMemberChangeReason } from '../events';
import type { Affiliation } from '../store/room-store';
import type { MucRuntime, RoomView } from './muc-runtime';
import { isMember } from './permissions';

/**
 * groupMemberAdded / groupMemberRemoved on the hub when an affiliation change crosses membership
 * (member, admin, owner on one side; none, outcast on the other): what webhooks report as
 * group.member_added and group.member_removed.
 */
export function membershipChanged(
  runtime: MucRuntime,
  room: string,
  jid: string,
  before: Affiliation,
  after: Affiliation,
  by: string | undefined,
  reason: GroupMemberChangeReason = 'affiliation',
): void {
  const was = isMember(before);
  const is = isMember(after);
  // The service's own JID owns rooms nobody else does; it is nobody's member.
  if (was === is || jid === runtime.serviceJid) return;
  runtime.events?.emit(is ? 'groupMemberAdded' : 'groupMemberRemoved', () => ({
    node: runtime.node,
    at: new Date(runtime.now()),
    room,
    jid,
    by,
    affiliation: after,
    reason,
  }));
}

/**
 * A destroyed room's members (member, admin, owner) are members no more: one groupMemberRemoved each,
 * with the reason 'destroyed', so whoever keeps member lists from the events drops the room. `by` is
 * the owner who destroyed it, when a user did.
 */
export function membersGone(runtime: MucRuntime, view: RoomView, by: string | undefined): void {
  for (const [jid, affiliation] of view.affiliations) membershipChanged(runtime, view.jid, jid, affiliation, 'none', by, 'destroyed');
}
