import { announcedBusKinds, BUS_MESSAGE_KINDS, busKindsAnnouncement, isKnownBusMessage, UNANNOUNCED_BUS_KINDS } from '../../src/routing/bus-kinds';

describe('the kinds of bus message a node reads (rolling upgrades)', () => {
  it('reads back what a node announces', () => {
    expect([...announcedBusKinds(busKindsAnnouncement())].sort()).toEqual([...BUS_MESSAGE_KINDS].sort());
    expect(announcedBusKinds('deliver fanout').has('fanout')).toBe(true);
  });

  it('takes a node without an announcement for an older release: no fanout', () => {
    for (const missing of [null, undefined, '', ' ']) {
      const kinds = announcedBusKinds(missing);
      expect([...kinds]).toEqual([...UNANNOUNCED_BUS_KINDS]);
      expect(kinds.has('fanout')).toBe(false);
    }
  });

  it('knows the kinds this release reads and no other', () => {
    for (const kind of BUS_MESSAGE_KINDS) expect(isKnownBusMessage({ kind })).toBe(true);
    expect(isKnownBusMessage({ kind: 'teleport' })).toBe(false);
    expect(isKnownBusMessage({})).toBe(false);
    expect(isKnownBusMessage({ kind: 7 })).toBe(false);
  });
});
