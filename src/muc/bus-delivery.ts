import { UNANNOUNCED_BUS_KINDS } from '../routing/bus-kinds';
import type { BusMessage, ClusterLink } from '../routing/route-table';
import { serializeXml } from '../xml';
import { planBroadcast } from './broadcast-plan';
import { addressedCopies, type Delivery, type OccupantDelivery } from './occupant-delivery';

/**
 * Cluster mode: every stanza for an occupant goes onto the stream of the node its session lives on,
 * this node's own included, and `deliver` resolves once each is in Redis. Each node reads its stream in
 * order and hands each stanza to its session, so for every occupant the arrival order is the order in
 * which the stanzas entered its node's stream — and the room's exclusive work (one holder per room
 * across the cluster) puts them there in the room's order. Delivering a local occupant directly instead
 * could overtake a message of the room that another node put on this node's stream a moment before.
 *
 * A room message (`broadcast`) is one bus write per node that has occupants, not one per occupant: a
 * 'fanout' carrying the stanza once and the occupants' JIDs there, which that node copies to each
 * session in turn (src/routing/bus-deliveries.ts) — the same stream, so the same order. A node that
 * does not announce 'fanout' (an older release during a rolling upgrade) gets a 'deliver' per occupant
 * instead (broadcast-plan.ts).
 *
 * A stanza the bus cannot take (the node is gone) goes through `fallback` (the router), which answers
 * the room with an error when the session is gone: the room then removes the occupant.
 */
export function busDelivery(cluster: ClusterLink, fallback: OccupantDelivery): OccupantDelivery {
  const deliver = async (deliveries: readonly Delivery[]): Promise<void> => {
    // Occupants side by side; each occupant's stanzas one after the other (the bus checks the node
    // is alive before each append, so two sends started together could swap).
    await Promise.all(
      [...groupBy(deliveries, (d) => d.occupant.jid).values()].map(async (list) => {
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
  };
  return {
    deliver,
    broadcast: async (stanza, occupants) => {
      const nodes = [...new Set(occupants.map((o) => o.node))];
      // Read with each node's heartbeat (cached); Redis unreachable: 'deliver', which every release reads.
      const kinds = new Map(await Promise.all(nodes.map(async (node) => [node, await cluster.busKinds(node).catch(() => unannounced)] as const)));
      const text = serializeXml(stanza);
      await Promise.all(
        planBroadcast(occupants, (node) => kinds.get(node) ?? unannounced).map(async ({ node, shape, occupants: here }) => {
          if (shape === 'deliver') return deliver(addressedCopies(stanza, here));
          const message: BusMessage = { kind: 'fanout', to: here.map((o) => o.jid), stanza: text, hops: 1 };
          try {
            await cluster.bus.send(node, message);
          } catch {
            await fallback.deliver(addressedCopies(stanza, here));
          }
        }),
      );
    },
  };
}

const unannounced: ReadonlySet<string> = new Set(UNANNOUNCED_BUS_KINDS);

/** Items by key, each list in the items' order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
