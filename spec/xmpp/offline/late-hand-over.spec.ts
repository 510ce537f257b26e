import type { Element } from 'ltx';
import type { Settled } from '../../../src/base/stream';
import { createLogger } from '../../../src/observability/logger';
import type { Resource } from '../../../src/routing/resource';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { OfflineService } from '../../../src/xmpp/offline/offline-service';

const message = (id: string): string => `<message xmlns="jabber:client" id="${id}" type="chat"><body>${id}</body></message>`;
const resource = (available: boolean, priority = 0): Resource => ({ available, priority }) as unknown as Resource;

/**
 * XEP-0160 race: a message routed while the recipient's resource was becoming available is kept
 * offline after that resource took its stored messages at its initial presence. It must not wait
 * for the next login.
 */
describe('XEP-0160: a message kept while its recipient was logging in', () => {
  it('is leased and routed (with its XEP-0203 stamp) once a resource that takes stored messages is available, and deleted once its client has it', async () => {
    const store = new MemoryOfflineStore(100);
    await store.push('bob', { stanza: message('late'), storedAt: new Date() });
    const routed: Element[] = [];
    const confirmations: Settled[] = [];
    const offline = new OfflineService(store, 'localhost', createLogger('silent'));
    await offline.handOverLate(
      'bob',
      async () => [resource(true)],
      // The router hands the claim to the session it delivers to.
      async (stanza, claim) => {
        routed.push(stanza);
        confirmations.push(claim());
      },
    );
    expect(routed.map((m) => [m.attrs.id, m.getChild('delay', 'urn:xmpp:delay')?.attrs.from])).toEqual([['late', 'localhost']]);
    await offline.idle();
    expect(await store.count('bob')).toBe(1);
    // Not handed over twice while it is on its way.
    await offline.handOverLate(
      'bob',
      async () => [resource(true)],
      async (stanza) => routed.push(stanza),
    );
    expect(routed).toHaveLength(1);
    for (const confirmed of confirmations) confirmed();
    await offline.idle();
    expect(await store.count('bob')).toBe(0);
  });

  it('goes back to storage for the next login when routing it fails, with whatever was leased after it', async () => {
    const store = new MemoryOfflineStore(100);
    await store.push('bob', { stanza: message('first'), storedAt: new Date() });
    await store.push('bob', { stanza: message('second'), storedAt: new Date() });
    const offline = new OfflineService(store, 'localhost', createLogger('silent'));
    await expect(
      offline.handOverLate(
        'bob',
        async () => [resource(true)],
        async () => {
          throw new Error('the store is away');
        },
      ),
    ).rejects.toThrow('the store is away');
    await offline.idle();
    expect((await store.lease('bob', 60_000)).map((m) => m.stanza)).toEqual([message('first'), message('second')]);
  });

  it('stays stored while no resource is available, or only one with a negative priority (RFC 6121 §4.7.2.3)', async () => {
    const store = new MemoryOfflineStore(100);
    await store.push('bob', { stanza: message('kept'), storedAt: new Date() });
    const routed: Element[] = [];
    const offline = new OfflineService(store, 'localhost', createLogger('silent'));
    for (const resources of [[], [resource(false)], [resource(true, -1)]]) {
      await offline.handOverLate(
        'bob',
        async () => resources,
        async (stanza) => routed.push(stanza),
      );
    }
    expect(routed).toEqual([]);
    expect(await store.count('bob')).toBe(1);
  });
});
