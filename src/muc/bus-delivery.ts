import type { BusMessage, ClusterLink } from '../routing/route-table';
import { serializeXml } from '../xml';
import type { Delivery, OccupantDelivery } from './occupant-delivery';

/**
 * Cluster mode: every stanza for an occupant goes onto the stream of the node its session lives on,
 * this node's own included, and `deliver` resolves once each is in Redis. Each node reads its stream in
 * order and hands each stanza to its session, so for every occupant the arrival order is the order in
 * which the stanzas entered its node's stream — and the room's exclusive work (one holder per room
 * across the cluster) puts them there in the room's order. Delivering a local occupant directly instead
 * could overtake a message of the room that another node put on this node's stream a moment before.
 *
 * A stanza the bus cannot take (the node is gone) goes through `fallback` (the router), which answers
 * the room with an error when the session is gone: the room then removes the occupant.
 */
export function busDelivery(cluster: ClusterLink, fallback: OccupantDelivery): OccupantDelivery {
  return {
    deliver: async (deliveries) => {
      const byOccupant = new Map<string, Delivery[]>();
      for (const delivery of deliveries) {
        const list = byOccupant.get(delivery.occupant.jid);
        if (list) list.push(delivery);
        else byOccupant.set(delivery.occupant.jid, [delivery]);
      }
      // Occupants side by side; each occupant's stanzas one after the other (the bus checks the node
      // is alive before each append, so two sends started together could swap).
      await Promise.all(
        [...byOccupant.values()].map(async (list) => {
          for (const delivery of list) {
            const message: BusMessage = { kind: 'deliver', to: delivery.occupant.jid, stanza: serializeXml(delivery.stanza), hops: 1 };
            try {
              await cluster.bus.send(delivery.occupant.node, message);
            } catch {
              await fallback.deliver([delivery]);
            }
          }
        }),
      );
    },
  };
}
