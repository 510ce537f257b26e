import type { RosterItem } from '../../../src/store/roster-store';
import { storesFor, type StoreBackend } from './backend';

const item = (jid: string, extra: Partial<RosterItem> = {}): RosterItem => ({ jid, subscription: 'none', ask: false, approved: false, groups: [], ...extra });

export function rosterStoreContract(backend: StoreBackend): void {
  describe(`${backend.name} RosterStore (RFC 6121 §2)`, () => {
    const stores = storesFor(backend);

    it('starts every user with an empty roster at version 0', async () => {
      const { rosters } = await stores.open();
      expect(await rosters.roster('alice')).toEqual({ version: 0, items: [] });
      expect(await rosters.item('alice', 'bob@d')).toBeUndefined();
      expect(await rosters.size('alice')).toBe(0);
    });

    it('keeps every field of an item and increases the version with every change (§2.6)', async () => {
      const { rosters } = await stores.open();
      const bob = item('bob@d', { name: 'Bob', subscription: 'both', ask: true, approved: true, groups: ['Friends', 'Work'] });
      const v1 = await rosters.setItem('alice', bob);
      expect(await rosters.item('alice', 'bob@d')).toEqual(bob);
      const v2 = await rosters.setItem('alice', item('carol@d'));
      const v3 = await rosters.setItem('alice', { ...bob, subscription: 'to', name: undefined });
      expect(v1).toBeGreaterThan(0);
      expect(v2).toBeGreaterThan(v1);
      expect(v3).toBeGreaterThan(v2);
      const roster = await rosters.roster('alice');
      expect(roster.version).toBe(v3);
      expect([...roster.items].sort((a, b) => a.jid.localeCompare(b.jid))).toEqual([{ ...bob, subscription: 'to', name: undefined }, item('carol@d')]);
      expect(await rosters.size('alice')).toBe(2);
    });

    it('removes an item with a new version, and leaves the version alone when there was none', async () => {
      const { rosters } = await stores.open();
      const v1 = await rosters.setItem('alice', item('bob@d'));
      const v2 = await rosters.removeItem('alice', 'bob@d');
      expect(v2).toBeGreaterThan(v1);
      expect(await rosters.removeItem('alice', 'bob@d')).toBe(v2);
      expect(await rosters.roster('alice')).toEqual({ version: v2, items: [] });
    });

    it('keeps each user’s roster apart', async () => {
      const { rosters } = await stores.open();
      await rosters.setItem('alice', item('bob@d'));
      expect(await rosters.roster('bob')).toEqual({ version: 0, items: [] });
      expect(await rosters.item('bob', 'bob@d')).toBeUndefined();
    });

    it('keeps pending inbound requests apart from the roster, one per contact (§3.1.3)', async () => {
      const { rosters } = await stores.open();
      expect(await rosters.pendingIn('alice')).toEqual([]);
      await rosters.addPendingIn('alice', { from: 'bob@d', stanza: "<presence type='subscribe'/>" });
      await rosters.addPendingIn('alice', { from: 'carol@d', stanza: '<presence/>' });
      await rosters.addPendingIn('alice', { from: 'bob@d', stanza: "<presence type='subscribe' id='2'/>" });
      expect([...(await rosters.pendingIn('alice'))].sort((a, b) => a.from.localeCompare(b.from))).toEqual([
        { from: 'bob@d', stanza: "<presence type='subscribe' id='2'/>" },
        { from: 'carol@d', stanza: '<presence/>' },
      ]);
      expect(await rosters.roster('alice')).toEqual({ version: 0, items: [] });
      expect(await rosters.removePendingIn('alice', 'bob@d')).toBe(true);
      expect(await rosters.removePendingIn('alice', 'bob@d')).toBe(false);
      expect((await rosters.pendingIn('alice')).map((p) => p.from)).toEqual(['carol@d']);
      expect(await rosters.pendingIn('bob')).toEqual([]);
    });

    it('deletes a user’s roster and pending requests, for every instance, and leaves other users’ alone', async () => {
      const first = await stores.open();
      await first.rosters.setItem('alice', item('bob@d', { subscription: 'both', groups: ['Friends'] }));
      await first.rosters.setItem('alice', item('carol@d'));
      await first.rosters.addPendingIn('alice', { from: 'dave@d', stanza: '<presence type="subscribe"/>' });
      const bobVersion = await first.rosters.setItem('bob', item('alice@d', { subscription: 'both' }));
      await first.rosters.addPendingIn('bob', { from: 'erin@d', stanza: '<presence/>' });
      await first.rosters.deleteUser('alice');
      for (const view of first.another ? [first, await stores.another(first)] : [first]) {
        expect((await view.rosters.roster('alice')).items).toEqual([]);
        expect(await view.rosters.item('alice', 'bob@d')).toBeUndefined();
        expect(await view.rosters.size('alice')).toBe(0);
        expect(await view.rosters.pendingIn('alice')).toEqual([]);
        expect(await view.rosters.roster('bob')).toEqual({ version: bobVersion, items: [item('alice@d', { subscription: 'both' })] });
        expect(await view.rosters.pendingIn('bob')).toEqual([{ from: 'erin@d', stanza: '<presence/>' }]);
      }
    });

    it('counts on past a deleted user’s roster version, so a roster cached before never matches (§2.6)', async () => {
      const { rosters } = await stores.open();
      await rosters.setItem('alice', item('bob@d'));
      const last = await rosters.setItem('alice', item('carol@d'));
      await rosters.deleteUser('alice');
      const emptied = (await rosters.roster('alice')).version;
      expect(emptied).toBeGreaterThan(last);
      expect(await rosters.setItem('alice', item('dave@d'))).toBeGreaterThan(emptied);
    });

    it('deletes a user who had no roster, or only pending requests, leaving the version at 0', async () => {
      const { rosters } = await stores.open();
      await rosters.deleteUser('nobody');
      expect(await rosters.roster('nobody')).toEqual({ version: 0, items: [] });
      await rosters.addPendingIn('frank', { from: 'bob@d', stanza: '<presence/>' });
      await rosters.deleteUser('frank');
      expect(await rosters.pendingIn('frank')).toEqual([]);
      expect(await rosters.roster('frank')).toEqual({ version: 0, items: [] });
    });

    it('keeps rosters and pending requests for another instance over the same data', async () => {
      const first = await stores.open();
      if (!first.another) return;
      const version = await first.rosters.setItem('alice', item('bob@d', { groups: ['Friends'] }));
      await first.rosters.addPendingIn('alice', { from: 'carol@d', stanza: '<presence/>' });
      const second = await stores.another(first);
      expect(await second.rosters.roster('alice')).toEqual({ version, items: [item('bob@d', { groups: ['Friends'] })] });
      expect(await second.rosters.pendingIn('alice')).toEqual([{ from: 'carol@d', stanza: '<presence/>' }]);
      expect(await second.rosters.setItem('alice', item('dave@d'))).toBeGreaterThan(version);
    });
  });
}
