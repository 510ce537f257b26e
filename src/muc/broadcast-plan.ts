import type { OccupantAddress } from './occupant-delivery';

/** How a room message goes to the occupants whose sessions live on one node. */
export interface NodeBroadcast {
  readonly node: string;
  /**
   * 'fanout': one bus message carrying the stanza once and the occupants' JIDs; 'deliver': one bus
   * message per occupant, for a node that does not read 'fanout' (an older release, during a rolling
   * upgrade). Either way the copies enter that node's stream in the room's order.
   */
  readonly shape: 'fanout' | 'deliver';
  /** In the room's order. */
  readonly occupants: readonly OccupantAddress[];
}

/**
 * The bus messages of a room message, per node, from the kinds each node reads (its announcement,
 * routing/bus-kinds.ts). Pure: the kinds are looked up before.
 */
export function planBroadcast(occupants: readonly OccupantAddress[], reads: (node: string) => ReadonlySet<string>): NodeBroadcast[] {
  const byNode = new Map<string, OccupantAddress[]>();
  for (const occupant of occupants) {
    const list = byNode.get(occupant.node);
    if (list) list.push(occupant);
    else byNode.set(occupant.node, [occupant]);
  }
  return [...byNode].map(([node, here]) => ({ node, shape: reads(node).has('fanout') ? 'fanout' : 'deliver', occupants: here }));
}
