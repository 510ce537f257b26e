import type { Element } from 'ltx';
import { createLogger } from '../../../src/observability/logger';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { OfflineService } from '../../../src/xmpp/offline/offline-service';
import type { LocalResource as OnlineResource } from '../../../src/routing/resource';
import type { Settled } from '../../../src/base/stream';

/** Only what deliverStored touches: the JID and delivery (its client confirms each stanza at once). */
function recipient(delivered: Element[]): OnlineResource {
  return {
    jid: { local: 'bob', domain: 'localhost', resource: 'r', bare: 'bob@localhost', full: 'bob@localhost/r' },
    deliver: (e: Element, settled?: Settled) => {
      delivered.push(e);
      settled?.();
    },
  } as unknown as OnlineResource;
}

describe('stored offline messages that are not well-formed XML (kept by an older version)', () => {
  it('are dropped at the next login; the well-formed ones are delivered and nothing is kept', async () => {
    const store = new MemoryOfflineStore(100);
    const storedAt = new Date('2026-01-01T00:00:00Z');
    await store.push('bob', { stanza: `<message xmlns="jabber:client" id="before"><body>hi</body></message>`, storedAt });
    await store.push('bob', { stanza: `<message xmlns="jabber:client" id="poison"><body>a\u0001b</body></message>`, storedAt });
    await store.push('bob', { stanza: `<message xmlns="jabber:client" id="after"><body>ok</body></message>`, storedAt });
    const delivered: Element[] = [];
    const service = new OfflineService(store, 'localhost', createLogger('silent'));
    await service.deliverStored(recipient(delivered));
    await service.idle();
    expect(delivered.map((e) => e.attrs.id)).toEqual(['before', 'after']);
    expect(await store.count('bob')).toBe(0);
  });
});
