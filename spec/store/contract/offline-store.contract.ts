import type { OfflineMessage } from '../../../src/store/offline-store';
import { storesFor, type StoreBackend } from './backend';

const at = new Date('2026-01-02T03:04:05.678Z');
const message = (stanza: string): OfflineMessage => ({ stanza, storedAt: at });

export function offlineStoreContract(backend: StoreBackend): void {
  describe(`${backend.name} OfflineStore (XEP-0160)`, () => {
    const stores = storesFor(backend);

    it('hands a user’s messages over once, oldest first, with the time they were stored', async () => {
      const { offline } = await stores.open();
      for (const id of ['1', '2', '3']) expect(await offline.push('bob', message(`<message id='${id}'/>`))).toBe(true);
      expect(await offline.count('bob')).toBe(3);
      const taken = await offline.take('bob');
      expect(taken.map((m) => m.stanza)).toEqual(["<message id='1'/>", "<message id='2'/>", "<message id='3'/>"]);
      expect(taken[0]?.storedAt.toISOString()).toBe(at.toISOString());
      expect(await offline.take('bob')).toEqual([]);
      expect(await offline.count('bob')).toBe(0);
    });

    it('keeps no more messages per user than the count limit, and a take frees the room', async () => {
      const { offline } = await stores.open({ perUser: 2, bytesPerUser: 1_000_000 });
      expect(await offline.push('bob', message('<a/>'))).toBe(true);
      expect(await offline.push('bob', message('<b/>'))).toBe(true);
      expect(await offline.push('bob', message('<c/>'))).toBe(false);
      expect(await offline.push('carol', message('<c/>'))).toBe(true);
      expect((await offline.take('bob')).map((m) => m.stanza)).toEqual(['<a/>', '<b/>']);
      expect(await offline.push('bob', message('<d/>'))).toBe(true);
    });

    it('keeps no more bytes per user than the byte limit, counted in UTF-8, and a take frees the room', async () => {
      const { offline } = await stores.open({ perUser: 100, bytesPerUser: 20 });
      const tenBytes = '<m>é!</m>'; // 8 ASCII bytes and one 2-byte character
      expect(Buffer.byteLength(tenBytes)).toBe(10);
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
      expect(await offline.push('bob', message('<message/>!'))).toBe(false); // 11 bytes: 21 in all
      expect(await offline.push('bob', message(tenBytes))).toBe(true); // exactly 20
      expect(await offline.push('bob', message('<a/>'))).toBe(false);
      expect(await offline.count('bob')).toBe(2);
      await offline.take('bob');
      expect(await offline.push('bob', message(tenBytes))).toBe(true);
    });

    it('keeps each user’s messages apart', async () => {
      const { offline } = await stores.open();
      await offline.push('bob', message('<for-bob/>'));
      await offline.push('carol', message('<for-carol/>'));
      expect((await offline.take('carol')).map((m) => m.stanza)).toEqual(['<for-carol/>']);
      expect(await offline.count('bob')).toBe(1);
    });

    it('deletes a user’s messages unread, freeing the count and byte limits, and leaves other users’ alone', async () => {
      // Ten bytes each: two fill both limits at once, so a count or a byte total left behind refuses a push.
      const { offline } = await stores.open({ perUser: 2, bytesPerUser: 20 });
      expect(Buffer.byteLength('<message/>')).toBe(10);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      await offline.push('bob', message('<for-bob/>'));
      await offline.deleteUser('alice');
      expect(await offline.count('alice')).toBe(0);
      expect(await offline.take('alice')).toEqual([]);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.push('alice', message('<message/>'))).toBe(true);
      expect(await offline.count('alice')).toBe(2);
      expect((await offline.take('bob')).map((m) => m.stanza)).toEqual(['<for-bob/>']);
      await offline.deleteUser('nobody');
      expect(await offline.count('nobody')).toBe(0);
    });

    it('keeps messages for another instance over the same data, and hands them over only once', async () => {
      const first = await stores.open();
      if (!first.another) return;
      await first.offline.push('bob', message('<one/>'));
      await first.offline.push('bob', message('<two/>'));
      const second = await stores.another(first);
      expect(await second.offline.count('bob')).toBe(2);
      expect((await second.offline.take('bob')).map((m) => m.stanza)).toEqual(['<one/>', '<two/>']);
      expect(await first.offline.take('bob')).toEqual([]);
    });
  });
}
