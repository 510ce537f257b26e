import { planBroadcast } from '../../src/muc/broadcast-plan';
import { announcedBusKinds, busKindsAnnouncement } from '../../src/routing/bus-kinds';

const occupants = [
  { jid: 'a@localhost/1', node: 'new' },
  { jid: 'b@localhost/1', node: 'old' },
  { jid: 'c@localhost/1', node: 'new' },
  { jid: 'd@localhost/1', node: 'old' },
];

describe('planBroadcast: the bus messages of a room message per node, from what each node reads (rolling upgrade)', () => {
  it('gives a node that announces fanout one fanout, and a node without the announcement a deliver per occupant, each in the room’s order', () => {
    const reads = (node: string) => announcedBusKinds(node === 'new' ? busKindsAnnouncement() : null);
    expect(planBroadcast(occupants, reads)).toEqual([
      { node: 'new', shape: 'fanout', occupants: [occupants[0], occupants[2]] },
      { node: 'old', shape: 'deliver', occupants: [occupants[1], occupants[3]] },
    ]);
  });

  it('gives a node that announces kinds without fanout a deliver per occupant, and plans nothing for no occupants', () => {
    expect(planBroadcast(occupants.slice(0, 1), () => announcedBusKinds('deliver replace end'))).toEqual([
      { node: 'new', shape: 'deliver', occupants: [occupants[0]] },
    ]);
    expect(planBroadcast([], () => announcedBusKinds(busKindsAnnouncement()))).toEqual([]);
  });
});
