import { needsSuccessor } from '../store/affiliation-removal';
import { membershipChanged } from './group-events';
import { viewRoom, type MucRuntime } from './muc-runtime';
import { changeAffiliation } from './room-admin';

/**
 * A removed account leaves every room it has an affiliation in (the per-user index of the room store
 * finds them), each as the room's exclusive work, as if an owner had set its affiliation to none: an
 * occupant under it is removed from a members-only room with 321 (XEP-0045 §9.4) or loses its
 * affiliation's role elsewhere, and a membership ends with groupMemberRemoved (reason
 * 'account-removed', no `by`). A room whose only owner it was passes to the service's own JID
 * (store/affiliation-removal.ts says why), without an event: the service is not a member anyone lists.
 */
export async function leaveEveryRoom(runtime: MucRuntime, jid: string): Promise<void> {
  for (const { room } of await runtime.rooms.affiliationsOf(jid)) {
    await runtime.rooms.exclusive(room, async () => {
      const view = await viewRoom(runtime, room);
      const current = view?.affiliations.get(jid);
      if (!view || current === undefined) return;
      if (needsSuccessor(view.affiliations, jid)) await runtime.rooms.setAffiliation(room, runtime.serviceJid, 'owner');
      await changeAffiliation(runtime, view, jid, 'none', 'the account was removed', undefined);
      membershipChanged(runtime, view.jid, jid, current, 'none', undefined, 'account-removed');
    });
  }
}
