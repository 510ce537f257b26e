import type { Affiliation } from '../store/room-store';
import type { MucRuntime } from './muc-runtime';
import { isMember } from './permissions';

/**
 * groupMemberAdded / groupMemberRemoved on the hub when an affiliation change crosses membership
 * (member, admin, owner on one side; none, outcast on the other): what webhooks report as
 * group.member_added and group.member_removed.
 */
export function membershipChanged(runtime: MucRuntime, room: string, jid: string, before: Affiliation, after: Affiliation, by: string | undefined): void {
  const was = isMember(before);
  const is = isMember(after);
  if (was === is) return;
  runtime.events?.emit(is ? 'groupMemberAdded' : 'groupMemberRemoved', () => ({
    node: runtime.node,
    at: new Date(runtime.now()),
    room,
    jid,
    by,
    affiliation: after,
  }));
}
