import type { Affiliation, RoomStore } from './room-store';

/**
 * Takes a bare JID's affiliations out of every room it has one in: part of removing an account
 * (account-removal.ts). The MUC service offers its own (src/muc/account-departure.ts: membership events,
 * occupants removed as an affiliation change does); `storeAffiliationRemoval` below is the stores' own,
 * for a node without the service.
 */
export interface AffiliationRemoval {
  removeAffiliations(jid: string): Promise<void>;
}

/**
 * Whether taking `jid`'s affiliation away would leave the room without an owner (XEP-0045 §10.6: a
 * room always keeps one). A removed account's room then passes to the service's own JID (the domain),
 * which owns the groups the business API creates without an owner: the room stays, with its members
 * and history, managed through the API.
 */
export function needsSuccessor(affiliations: ReadonlyMap<string, Affiliation>, jid: string): boolean {
  if (affiliations.get(jid) !== 'owner') return false;
  return ![...affiliations].some(([other, affiliation]) => affiliation === 'owner' && other !== jid);
}

/** The stores alone: each room's affiliation removed as the room's exclusive work, nobody told. */
export function storeAffiliationRemoval(rooms: RoomStore, successor: string): AffiliationRemoval {
  return {
    async removeAffiliations(jid) {
      for (const { room } of await rooms.affiliationsOf(jid)) {
        await rooms.exclusive(room, async () => {
          if (needsSuccessor(await rooms.affiliations(room), jid)) await rooms.setAffiliation(room, successor, 'owner');
          await rooms.setAffiliation(room, jid, 'none');
        });
      }
    },
  };
}
