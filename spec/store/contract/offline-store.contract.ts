import type { OfflineMessage, OfflineStore } from '../../../src/store/offline-store';
import { storesFor, type StoreBackend } from './backend';

const at = new Date('2026-01-02T03:04:05.678Z');
const message = (stanza: string): OfflineMessage => ({ stanza, storedAt: at });
const LEASE_MS = 60_000;

/** A clock the test moves by hand, for lease expiry. */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let now = Date.parse('2026-03-01T00:00:00Z');
  return { now: () => now, advance: (ms) => (now += ms) };
}

/** Leases a user's messages and settles them at once (a login whose client confirmed everything). */
async function takeAll(offline: OfflineStore, user: string): Promise<string[]> {
  const leased = await offline.lease(user, LEASE_MS);
  await offline.settle(
    user,
    leased.map((m) => m.id),
  );
  return leased.map((m) => m.stanza);
}

export function offlineStoreContract(backend: StoreBackend): void {
  describe(`${backend.name} OfflineStore (XEP-0160)`, () => {
    const stores = storesFor(backend);

    it('hands a user’s messages over under a lease, oldest first, with the time they were stored, and deletes them once settled', async () => {
      const { offline } = await stores.open();
      for (const id of ['1', '2', '3']) expect(await offline.push('bob', message(`<message id='${id}'/>`))).toBe(true);
      expect(await offline.count('bob')).toBe(3);
      const leased = await offline.lease('bob', LEASE_MS);
      expect(leased.map((m) => m.stanza)).toEqual(["<message id='1'/>", "<message id='2'/>", "<message id='3'/>"]);
      expect(leased[0]?.storedAt.toISOString()).toBe(at.toISOString());
      expect(new Set(leased.map((m) => m.id)).size).toBe(3);
      // Leased, not gone: still stored and counted until the client has them.
      expect(await offline.count('bob')).toBe(3);
      await offline.settle(
        'bob',
        leased.map((m) => m.id),
      );
      expect(await offline.count('bob')).toBe(0);
      expect(await offline.lease('bob', LEASE_MS)).toEqual([]);
    });

    it('hides leased messages from a second lease, which gets only what was stored since', async () => {
      const { offline } = await stores.open();
      await offline.push('bob', message('<one/>'));
      expect((await offline.lease('bob', LEASE_MS)).map((m) => m.stanza)).toEqual(['<one/>']);
      expect(await offline.lease('bob', LEASE_MS)).toEqual([]);
      await offline.push('bob', message('<two/>'));
      expect((await offline.lease('bob', LEASE_MS)).map((m) => m.stanza)).toEqual(['<two/>']);
      expect(await offline.count('bob')).toBe(2);
    });

    it('hands a message over again, with the same id and stanza, once its lease runs out unsettled', async () => {
      const clock = manualClock();
      const { offline } = await stores.open(undefined, clock.now);
      await offline.push('bob', message(`<message id='kept'/>`));
      await offline.push('bob', message(`<message id='also-kept'/>`));
      const first = await offline.lease('bob', LEASE_MS);
      clock.advance(LEASE_MS - 1);
      expect(await offline.lease('bob', LEASE_MS)).toEqual([]);
      clock.advance(1);
      const again = await offline.lease('bob', LEASE_MS);
      expect(again).toEqual(first);
      expect(await offline.lease('bob', LEASE_MS)).toEqual([]);
    });

    it('hands a released message over again at once, in its place among the others', async () => {
      const { offline } = await stores.open();
      await offline.push('bob', message('<a/>'));
      await offline.push('bob', message('<b/>'));
      const leased = await offline.lease('bob', LEASE_MS);
      await offline.push('bob', message('<c/>'));
      await offline.release('bob', [leased[1]?.id as string, 'no-such-id']);
      const again = await offline.lease('bob', LEASE_MS);
      expect(again.map((m) => m.stanza)).toEqual(['<b/>', '<c/>']);
      expect(again[0]?.id).toBe(leased[1]?.id);
      expect(await offline.count('bob')).toBe(3);
    });

    it('settles only the ids named, ignores ids not stored, and a late settle hits no newer message', async () => {
      const { offline } = await stores.open();
      await offline.push('bob', message('<a/>'));
      await offline.push('bob', message('<b/>'));
      const [a, b] = await offline.lease('bob', LEASE_MS);
      await offline.settle('bob', [a?.id as string, 'no-such-id']);
      expect(await offline.count('bob')).toBe(1);
      await offline.settle('bob', [b?.id as string]);
      // The newest message is gone: a message stored now must not take its id.
      await offline.push('bob', message('<c/>'));
      await offline.settle('bob', [a?.id as string, b?.id as string]);
      expect(await offline.count('bob')).toBe(1);
      expect(await takeAll(offline, 'bob')).toEqual(['<c/>']);
      // Another user's ids settle nothing of bob's.
      await offline.push('bob', message('<d/>'));
      await offline.push('carol', message('<for-carol/>'));
      const [carol] = await offline.lease('carol', LEASE_MS);
      const [bob] = await offline.lease('bob', LEASE_MS);
      await offline.settle('bob', [carol?.id as string]);
      await offline.settle('carol', [bob?.id as string]);
      expect([await offline.count('bob'), await offline.count('carol')]).toEqual([1, 1]);
    });

    it('keeps no more messages per user than the count limit, leased ones included, and a settle frees the room', async () => {
      const { offline } = await stores.open({ perUser: 2, bytesPerUser: 1_000_000 });
      expect(await offline.push('bob', message('<a/>'))).toBe(true);
      expect(await offline.push('bob', message('<b/>'))).toBe(true);
      expect(await offline.push('bob', message('<c/>'))).toBe(false);
      expect(await offline.push('carol', message('<c/>'))).toBe(true);
      const leased = await offline.lease('bob', LEASE_MS);
      expect(leased.map((m) => m.stanza)).toEqual(['<a/>', '<b/>']);
      expect(await offline.push('bob', message('<d/>'))).toBe(false);
      await offline.settle('bob', [leased[0]?.id as string]);
      expect(await offline.push('bob', message('<d/>'))).toBe(true);
      expect(await offline.push('bob', message('<e/>'))).toBe(false);
    });

    it('keeps no more bytes per user than the byte limit, counted in UTF-8, leased ones included, and a settle frees exactly their bytes', async () => {
      const { offline } = await stores.open({ perUser: 100, bytesPerUser: 20 });
      const tenBytes = '<m>é!</m>'; // 8 ASCII bytes and one 2-byte character
      expect(Buffer.byteLength(tenBytes)).toBe(10);
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
      expect(await offline.push('bob', message('<message/>!'))).toBe(false); // 11 bytes: 21 in all
      expect(await offline.push('bob', message(tenBytes))).toBe(true); // exactly 20
      expect(await offline.push('bob', message('<a/>'))).toBe(false);
      expect(await offline.count('bob')).toBe(2);
      const [first, second] = await offline.lease('bob', LEASE_MS);
      expect(await offline.push('bob', message('<a/>'))).toBe(false);
      await offline.settle('bob', [first?.id as string]);
      // Ten bytes freed, no more: eleven do not fit, ten do.
      expect(await offline.push('bob', message('<message/>!'))).toBe(false);
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
      await offline.settle('bob', [second?.id as string]);
      await takeAll(offline, 'bob');
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
    });

    it('keeps each user’s messages apart', async () => {
      const { offline } = await stores.open();
      await offline.push('bob', message('<for-bob/>'));
      await offline.push('carol', message('<for-carol/>'));
      expect(await takeAll(offline, 'carol')).toEqual(['<for-carol/>']);
      expect(await offline.count('bob')).toBe(1);
    });

    it('deletes a user’s messages unread, leased ones too, freeing the count and byte limits, and leaves other users’ alone', async () => {
      // Ten bytes each: two fill both limits at once, so a count or a byte total left behind refuses a push.
      const { offline } = await stores.open({ perUser: 2, bytesPerUser: 20 });
      expect(Buffer.byteLength('<message/>')).toBe(10);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.lease('alice', LEASE_MS)).toHaveLength(1);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      await offline.push('bob', message('<for-bob/>'));
      await offline.deleteUser('alice');
      expect(await offline.count('alice')).toBe(0);
      expect(await offline.lease('alice', LEASE_MS)).toEqual([]);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.count('alice')).toBe(2);
      expect(await takeAll(offline, 'bob')).toEqual(['<for-bob/>']);
      await offline.deleteUser('nobody');
      expect(await offline.count('nobody')).toBe(0);
    });

    it('keeps messages and leases for another instance over the same data, and hands them over only once', async () => {
      const first = await stores.open();
      if (!first.another) return;
      await first.offline.push('bob', message('<one/>'));
      await first.offline.push('bob', message('<two/>'));
      const second = await stores.another(first);
      expect(await second.offline.count('bob')).toBe(2);
      const leased = await second.offline.lease('bob', LEASE_MS);
      expect(leased.map((m) => m.stanza)).toEqual(['<one/>', '<two/>']);
      expect(await first.offline.lease('bob', LEASE_MS)).toEqual([]);
      await first.offline.settle(
        'bob',
        leased.map((m) => m.id),
      );
      expect(await second.offline.count('bob')).toBe(0);
    });
  });
}
