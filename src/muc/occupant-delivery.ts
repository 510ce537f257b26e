import type { Element } from 'ltx';
import type { ComponentOutlet } from '../components';
import type { Occupant } from '../store/room-store';

/** One stanza for one occupant (its `to` is the occupant's real full JID). */
export interface Delivery {
  readonly occupant: Pick<Occupant, 'jid' | 'node'>;
  readonly stanza: Element;
}

/**
 * How the room's stanzas reach its occupants. `deliver` keeps the order given for each occupant and
 * resolves once every stanza has left this node, so that what the room sends next (under the room's
 * exclusive work, see RoomStore.exclusive) can only arrive after it.
 */
export interface OccupantDelivery {
  deliver(deliveries: readonly Delivery[]): Promise<void>;
}

/**
 * A single node: through the component's outlet, one stanza after the other. The router hands a stanza
 * for a local session to that session before `send` resolves, so the order of the calls is the order of
 * arrival.
 */
export function outletDelivery(outlet: () => ComponentOutlet): OccupantDelivery {
  return {
    deliver: async (deliveries) => {
      for (const { stanza } of deliveries) await outlet().send(stanza);
    },
  };
}
