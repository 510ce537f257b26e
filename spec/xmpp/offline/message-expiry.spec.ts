import type { Element } from 'ltx';
import { createLogger } from '../../../src/observability/logger';
import type { Settled } from '../../../src/base/stream';
import type { LocalResource } from '../../../src/routing/resource';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { OfflineService } from '../../../src/xmpp/offline/offline-service';

/** A session whose client confirms each stanza at once (XEP-0124 §9). */
function recipient(delivered: Element[]): LocalResource {
  return {
    jid: { local: 'bob', domain: 'localhost', resource: 'r', bare: 'bob@localhost', full: 'bob@localhost/r' },
    deliver: (e: Element, settled?: Settled) => {
      delivered.push(e);
      settled?.();
    },
  } as unknown as LocalResource;
}

const expiring = (id: string, seconds: number): string =>
  `<message xmlns="jabber:client" id="${id}"><body>x</body><x xmlns="jabber:x:expire" seconds="${seconds}"/></message>`;

describe('stored messages with an expiry (XEP-0023)', () => {
  const storedAt = new Date('2026-01-01T00:00:00Z');

  async function deliverAt(secondsLater: number): Promise<Element[]> {
    const store = new MemoryOfflineStore(100);
    await store.push('bob', { stanza: expiring('short', 10), storedAt });
    await store.push('bob', { stanza: expiring('long', 3600), storedAt });
    await store.push('bob', { stanza: `<message xmlns="jabber:client" id="plain"><body>x</body></message>`, storedAt });
    const delivered: Element[] = [];
    const now = (): number => storedAt.getTime() + secondsLater * 1000;
    const service = new OfflineService(store, 'localhost', createLogger('silent'), now);
    await service.deliverStored(recipient(delivered));
    // Delivered ones are deleted once confirmed, expired ones at once: nothing is left.
    await service.idle();
    expect(await store.count('bob')).toBe(0);
    return delivered;
  }

  it('delivers one still valid with the seconds it has left', async () => {
    const delivered = await deliverAt(4);
    expect(delivered.map((e) => [e.attrs.id, e.getChild('x', 'jabber:x:expire')?.attrs.seconds])).toEqual([
      ['short', '6'],
      ['long', '3596'],
      ['plain', undefined],
    ]);
  });

  it('drops one whose seconds have passed, at the very second they run out', async () => {
    expect((await deliverAt(10)).map((e) => e.attrs.id)).toEqual(['long', 'plain']);
  });
});
