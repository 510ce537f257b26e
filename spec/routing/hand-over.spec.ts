import { parseStrictXml } from '../../src/xml';
import { parseJid, type Jid } from '../../src/base/jid';
import { Router } from '../../src/routing/router';
import { BUS_MESSAGE_KINDS } from '../../src/routing/bus-kinds';
import type { BusMessage, ClusterLink, RouteEntry } from '../../src/routing/route-table';
import type { AccountStore } from '../../src/store/account-store';

const bobOnB: RouteEntry = { resource: 'web', node: 'b', available: true, priority: 0, interested: false, carbons: false, presence: undefined };

describe('a message for a resource on another node is routed only once it is on the bus', () => {
  it('route() resolves when the bus has taken the message (on its stream or in the outbox), not before', async () => {
    let take: () => void = () => undefined;
    const written: BusMessage[] = [];
    const cluster: ClusterLink = {
      node: 'a',
      isAlive: async () => true,
      busKinds: async () => new Set(BUS_MESSAGE_KINDS),
      routes: { resources: async () => [bobOnB], put: async () => undefined, remove: async () => undefined },
      bus: {
        send: async () => undefined,
        handOver: (_node, message) => {
          written.push(message);
          const taken = new Promise<void>((resolve) => (take = resolve));
          return { taken, done: taken };
        },
      },
    };
    const accounts = { exists: async () => true } as unknown as AccountStore;
    const router = new Router('localhost', accounts, cluster);
    let routed = false;
    const routing = router
      .route(
        parseStrictXml(`<message xmlns='jabber:client' from='alice@localhost/x' to='bob@localhost' type='chat' id='m1'><body>hi</body></message>`),
        parseJid('bob@localhost') as Jid,
      )
      .then((outcome) => {
        routed = true;
        return outcome;
      });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.map((m) => m.kind)).toEqual(['deliver']);
    expect(routed).toBe(false);
    take();
    expect(await routing).toBe('delivered');
  });
});
