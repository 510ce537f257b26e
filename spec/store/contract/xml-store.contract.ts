import { storesFor, type StoreBackend } from './backend';

export function xmlStoreContract(backend: StoreBackend): void {
  describe(`${backend.name} XmlStore (XEP-0049, XEP-0054)`, () => {
    const stores = storesFor(backend);

    it('stores, replaces and deletes a document by user and key', async () => {
      const { documents } = await stores.open();
      expect(await documents.get('alice', 'vcard')).toBeUndefined();
      await documents.set('alice', 'vcard', '<vCard xmlns="vcard-temp"><FN>A</FN></vCard>');
      expect(await documents.get('alice', 'vcard')).toBe('<vCard xmlns="vcard-temp"><FN>A</FN></vCard>');
      await documents.set('alice', 'vcard', '<vCard xmlns="vcard-temp"/>');
      expect(await documents.get('alice', 'vcard')).toBe('<vCard xmlns="vcard-temp"/>');
      expect(await documents.get('bob', 'vcard')).toBeUndefined();
      await documents.delete('alice', 'vcard');
      expect(await documents.get('alice', 'vcard')).toBeUndefined();
      await documents.delete('alice', 'never-there');
    });

    it('lists a user’s keys that start with a prefix, taken literally', async () => {
      const { documents } = await stores.open();
      await documents.set('alice', 'private a urn:a', '<a/>');
      await documents.set('alice', 'private b urn:b', '<b/>');
      await documents.set('alice', 'vcard', '<vCard/>');
      await documents.set('alice', 'privat_ x', '<x/>');
      await documents.set('bob', 'private c urn:c', '<c/>');
      expect((await documents.keysOf('alice', 'private ')).sort()).toEqual(['private a urn:a', 'private b urn:b']);
      expect(await documents.keysOf('alice', 'privat_')).toEqual(['privat_ x']);
      expect(await documents.keysOf('alice', 'priva%')).toEqual([]);
      expect(await documents.keysOf('nobody', 'private ')).toEqual([]);
    });

    it('deletes every document of a user, whatever its key, and leaves other users’ alone', async () => {
      const { documents } = await stores.open();
      await documents.set('alice', 'vcard', '<vCard xmlns="vcard-temp"/>');
      await documents.set('alice', 'private a urn:a', '<a/>');
      await documents.set('alice', 'private storage:bookmarks', '<storage/>');
      await documents.set('bob', 'vcard', '<vCard xmlns="vcard-temp"><FN>B</FN></vCard>');
      await documents.set('bob', 'private a urn:a', '<b/>');
      await documents.deleteUser('alice');
      expect(await documents.get('alice', 'vcard')).toBeUndefined();
      expect(await documents.get('alice', 'private a urn:a')).toBeUndefined();
      expect(await documents.keysOf('alice', '')).toEqual([]);
      expect(await documents.get('bob', 'vcard')).toBe('<vCard xmlns="vcard-temp"><FN>B</FN></vCard>');
      expect((await documents.keysOf('bob', '')).sort()).toEqual(['private a urn:a', 'vcard']);
      await documents.deleteUser('nobody');
    });

    it('keeps documents for another instance over the same data', async () => {
      const first = await stores.open();
      if (!first.another) return;
      await first.documents.set('alice', 'private storage:bookmarks', '<storage xmlns="storage:bookmarks"/>');
      const second = await stores.another(first);
      expect(await second.documents.get('alice', 'private storage:bookmarks')).toBe('<storage xmlns="storage:bookmarks"/>');
      expect(await second.documents.keysOf('alice', 'private ')).toEqual(['private storage:bookmarks']);
    });
  });
}
