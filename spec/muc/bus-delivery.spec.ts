import type { Element } from 'ltx';
import { busDelivery } from '../../src/muc/bus-delivery';
import type { Delivery, OccupantDelivery } from '../../src/muc/occupant-delivery';
import type { BusMessage, ClusterLink } from '../../src/routing/route-table';
import { announcedBusKinds, BUS_MESSAGE_KINDS } from '../../src/routing/bus-kinds';
import { parseStrictXml } from '../../src/xml';

/**
 * A cluster whose bus records what it is given, and refuses the nodes in `dead`; the nodes in `old`
 * announce nothing (an older release), and `kinds` fails when `unreachable` (Redis away).
 */
function fakeCluster(dead: ReadonlySet<string> = new Set(), old: ReadonlySet<string> = new Set(), unreachable = false) {
  const sent: Array<{ node: string; message: BusMessage }> = [];
  const cluster: ClusterLink = {
    node: 'n1',
    routes: { resources: async () => [], put: async () => undefined, remove: async () => undefined },
    bus: {
      send: async (node, message) => {
        if (dead.has(node)) throw new Error(`node ${node} is not alive`);
        sent.push({ node, message });
      },
    },
    isAlive: async (node) => !dead.has(node),
    busKinds: async (node) => {
      if (unreachable) throw new Error('redis is away');
      return old.has(node) ? announcedBusKinds(null) : new Set(BUS_MESSAGE_KINDS);
    },
  };
  return { cluster, sent };
}

function recordingFallback() {
  const delivered: Delivery[] = [];
  const fallback: OccupantDelivery = {
    deliver: async (deliveries) => void delivered.push(...deliveries),
    broadcast: async () => {
      throw new Error('the bus delivery hands the fallback single stanzas');
    },
  };
  return { fallback, delivered };
}

const occupants = [
  { jid: 'a@localhost/1', node: 'n1' },
  { jid: 'b@localhost/1', node: 'n2' },
  { jid: 'c@localhost/1', node: 'n1' },
  { jid: 'd@localhost/1', node: 'n3' },
  { jid: 'e@localhost/1', node: 'n2' },
];
const roomMessage = (): Element => parseStrictXml("<message xmlns='jabber:client' type='groupchat' from='r@conference.localhost/a'><body>hi</body></message>");

describe('busDelivery: a room message in cluster mode (XEP-0045 §7.4)', () => {
  it('is one bus message per node with occupants, carrying the stanza once and their JIDs in the room’s order', async () => {
    const { cluster, sent } = fakeCluster();
    await busDelivery(cluster, recordingFallback().fallback).broadcast(roomMessage(), occupants);
    expect(sent.map((s) => s.node).sort()).toEqual(['n1', 'n2', 'n3']);
    const to = (node: string) => sent.find((s) => s.node === node)?.message;
    expect(to('n1')).toMatchObject({ kind: 'fanout', to: ['a@localhost/1', 'c@localhost/1'], hops: 1 });
    expect(to('n2')).toMatchObject({ kind: 'fanout', to: ['b@localhost/1', 'e@localhost/1'] });
    expect(to('n3')).toMatchObject({ kind: 'fanout', to: ['d@localhost/1'] });
    const carried = to('n1');
    expect(carried?.kind === 'fanout' && parseStrictXml(carried.stanza).getChildText('body')).toBe('hi');
  });

  it('hands the occupants of a node the bus cannot reach to the fallback, one addressed copy each, so a gone session is answered as for one stanza', async () => {
    const { cluster, sent } = fakeCluster(new Set(['n2']));
    const { fallback, delivered } = recordingFallback();
    await busDelivery(cluster, fallback).broadcast(roomMessage(), occupants);
    expect(sent.map((s) => s.node).sort()).toEqual(['n1', 'n3']);
    expect(delivered.map((d) => [d.occupant.jid, d.stanza.attrs.to])).toEqual([
      ['b@localhost/1', 'b@localhost/1'],
      ['e@localhost/1', 'e@localhost/1'],
    ]);
    expect(delivered.every((d) => d.stanza.getChildText('body') === 'hi')).toBe(true);
  });

  it('sends a node that does not announce fanout (an older release, rolling upgrade) one deliver per occupant, each addressed, in the room’s order', async () => {
    const { cluster, sent } = fakeCluster(new Set(), new Set(['n2']));
    await busDelivery(cluster, recordingFallback().fallback).broadcast(roomMessage(), occupants);
    const toN2 = sent.filter((s) => s.node === 'n2').map((s) => s.message);
    expect(toN2.map((m) => m.kind)).toEqual(['deliver', 'deliver']);
    expect(toN2.map((m) => (m.kind === 'deliver' ? [m.to, parseStrictXml(m.stanza).attrs.to, parseStrictXml(m.stanza).getChildText('body')] : []))).toEqual([
      ['b@localhost/1', 'b@localhost/1', 'hi'],
      ['e@localhost/1', 'e@localhost/1', 'hi'],
    ]);
    expect(sent.filter((s) => s.node !== 'n2').map((s) => s.message.kind)).toEqual(['fanout', 'fanout']);
  });

  it('sends one deliver per occupant when the announcements cannot be read (Redis away): every release reads it', async () => {
    const { cluster, sent } = fakeCluster(new Set(), new Set(), true);
    await busDelivery(cluster, recordingFallback().fallback).broadcast(roomMessage(), occupants);
    expect(sent.map((s) => s.message.kind)).toEqual(Array.from({ length: occupants.length }, () => 'deliver'));
  });

  it('still sends stanzas that differ per occupant one by one (deliver)', async () => {
    const { cluster, sent } = fakeCluster();
    const stanza = (to: string) => parseStrictXml(`<presence xmlns='jabber:client' to='${to}'/>`);
    await busDelivery(cluster, recordingFallback().fallback).deliver(occupants.slice(0, 2).map((o) => ({ occupant: o, stanza: stanza(o.jid) })));
    expect(sent.map((s) => [s.node, s.message.kind])).toEqual([
      ['n1', 'deliver'],
      ['n2', 'deliver'],
    ]);
  });
});
