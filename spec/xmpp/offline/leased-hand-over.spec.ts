import type { Element } from 'ltx';
import type { Settled } from '../../../src/base/stream';
import { createLogger } from '../../../src/observability/logger';
import type { LocalResource } from '../../../src/routing/resource';
import { MemoryOfflineStore } from '../../../src/store/offline-store';
import { OfflineService } from '../../../src/xmpp/offline/offline-service';
import { World, until, xml } from '../support/actor-harness';

const LEASE_MS = 300_000;
const stored = (id: string): string => `<message xmlns="jabber:client" to="bob@localhost" id="${id}" type="chat"><body>${id}</body></message>`;

/** A session of bob's that keeps what it is given and the Settled of each, as a BOSH session does until its client confirms (XEP-0124 §9). */
class Session {
  readonly got: Element[] = [];
  readonly settled: Settled[] = [];
  readonly resource = {
    jid: { local: 'bob', domain: 'localhost', resource: 'r', bare: 'bob@localhost', full: 'bob@localhost/r' },
    deliver: (stanza: Element, settled?: Settled) => {
      this.got.push(stanza);
      if (settled) this.settled.push(settled);
    },
  } as unknown as LocalResource;

  get ids(): unknown[] {
    return this.got.map((m) => m.attrs.id);
  }

  /** The client confirmed everything it got. */
  confirm(): void {
    for (const settled of this.settled.splice(0)) settled();
  }
}

/** A store holding bob's messages, on a clock the test moves. */
async function storeWith(...ids: string[]): Promise<{ store: MemoryOfflineStore; advance: (ms: number) => void }> {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const store = new MemoryOfflineStore(100, Number.POSITIVE_INFINITY, () => now);
  for (const id of ids) await store.push('bob', { stanza: stored(id), storedAt: new Date(now) });
  return { store, advance: (ms) => (now += ms) };
}

const service = (store: MemoryOfflineStore): OfflineService => new OfflineService(store, 'localhost', createLogger('silent'), Date.now, LEASE_MS);

describe('stored messages are handed over at least once (XEP-0160 with XEP-0124 §9 receipts)', () => {
  it('stay stored until the session reports that its client has them, then are deleted', async () => {
    const { store } = await storeWith('m1', 'm2');
    const offline = service(store);
    const session = new Session();
    await offline.deliverStored(session.resource);
    expect(session.ids).toEqual(['m1', 'm2']);
    await offline.idle();
    expect(await store.count('bob')).toBe(2);
    session.confirm();
    await offline.idle();
    expect(await store.count('bob')).toBe(0);
  });

  it('are not handed to a second login while the first session’s lease holds them', async () => {
    const { store } = await storeWith('m1');
    const offline = service(store);
    await offline.deliverStored(new Session().resource);
    const second = new Session();
    await offline.deliverStored(second.resource);
    expect(second.got).toEqual([]);
  });

  it('come again, the same stanzas with the same ids, at a login after the lease ran out unconfirmed (the node died)', async () => {
    const { store, advance } = await storeWith('m1', 'm2');
    const first = new Session();
    await service(store).deliverStored(first.resource);
    // The node that handed them over is gone: nobody confirms, nobody routes them again.
    advance(LEASE_MS - 1);
    const tooSoon = new Session();
    await service(store).deliverStored(tooSoon.resource);
    expect(tooSoon.got).toEqual([]);
    advance(1);
    const later = new Session();
    const restarted = service(store);
    await restarted.deliverStored(later.resource);
    expect(later.ids).toEqual(['m1', 'm2']);
    expect(later.got.map(String)).toEqual(first.got.map(String));
    later.confirm();
    await restarted.idle();
    expect(await store.count('bob')).toBe(0);
  });

  it('go back to storage as they are when their session ends unconfirmed: one copy, the first delay stamp, at once for the next login', async () => {
    const { store } = await storeWith('m1', 'm2');
    const offline = service(store);
    const gone = new Session();
    await offline.deliverStored(gone.resource);
    // The session ended: it routes again what its client never confirmed (offline storage here), then settles it.
    for (const message of gone.got) expect(await offline.keep('bob', message)).toBe('stored');
    gone.confirm();
    await offline.idle();
    expect(await store.count('bob')).toBe(2);
    const back = new Session();
    await offline.deliverStored(back.resource);
    expect(back.ids).toEqual(['m1', 'm2']);
    expect(back.got.map((m) => m.getChildren('delay', 'urn:xmpp:delay').length)).toEqual([1, 1]);
    back.confirm();
    await offline.idle();
    expect(await store.count('bob')).toBe(0);
  });

  it('do not count twice against OFFLINE_LIMIT when they go back to a full queue', async () => {
    let now = 0;
    const store = new MemoryOfflineStore(2, Number.POSITIVE_INFINITY, () => now);
    await store.push('bob', { stanza: stored('m1'), storedAt: new Date(now) });
    await store.push('bob', { stanza: stored('m2'), storedAt: new Date(now) });
    const offline = service(store);
    const gone = new Session();
    await offline.deliverStored(gone.resource);
    expect(await offline.keep('bob', xml(stored('new')))).toBe('full');
    for (const message of gone.got) expect(await offline.keep('bob', message)).toBe('stored');
    now += 1;
    const back = new Session();
    await offline.deliverStored(back.resource);
    expect(back.ids).toEqual(['m1', 'm2']);
  });

  it('a message handed to a session that ended while it was on its way is routed again (here: stored), then settled', async () => {
    const world = await World.with({ bob: 'b' });
    const client = await world.login('bob', 'b', 'r');
    client.actor.end('inactivity', []);
    let settled = false;
    client.actor.deliver(xml(stored('late')), () => (settled = true));
    await until(() => settled, 'the settle after routing again');
    expect(await world.domain.services.offline.count('bob')).toBe(1);
  });
});
