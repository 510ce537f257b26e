import type { Element } from 'ltx';
import type { ComponentOutlet } from '../components';
import type { Occupant } from '../store/room-store';
import { cloneElement } from '../xml';

/** Where an occupant is: its real full JID and the node its session lives on. */
export type OccupantAddress = Pick<Occupant, 'jid' | 'node'>;

/** One stanza for one occupant (its `to` is the occupant's real full JID). */
export interface Delivery {
  readonly occupant: OccupantAddress;
  readonly stanza: Element;
}

/**
 * How the room's stanzas reach its occupants. `deliver` keeps the order given for each occupant and
 * resolves once every stanza has left this node, so that what the room sends next (under the room's
 * exclusive work, see RoomStore.exclusive) can only arrive after it. `broadcast` is the same for one
 * stanza that every occupant gets alike (a room message): each copy's `to` is set to its occupant.
 */
export interface OccupantDelivery {
  deliver(deliveries: readonly Delivery[]): Promise<void>;
  broadcast(stanza: Element, occupants: readonly OccupantAddress[]): Promise<void>;
}

/** A copy of `stanza` addressed to each occupant. */
export function addressedCopies(stanza: Element, occupants: readonly OccupantAddress[]): Delivery[] {
  return occupants.map((occupant) => {
    const copy = cloneElement(stanza);
    copy.attrs.to = occupant.jid;
    return { occupant, stanza: copy };
  });
}

/**
 * A single node: through the component's outlet, one stanza after the other. The router hands a stanza
 * for a local session to that session before `send` resolves, so the order of the calls is the order of
 * arrival.
 */
export function outletDelivery(outlet: () => ComponentOutlet): OccupantDelivery {
  const deliver = async (deliveries: readonly Delivery[]): Promise<void> => {
    for (const { stanza } of deliveries) await outlet().send(stanza);
  };
  return {
    deliver,
    broadcast: (stanza, occupants) => deliver(addressedCopies(stanza, occupants)),
  };
}
