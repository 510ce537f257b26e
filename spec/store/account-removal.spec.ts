import { removeAccount, type AccountData } from '../../src/store/account-removal';
import { storeAffiliationRemoval } from '../../src/store/affiliation-removal';
import { AuthCache } from '../../src/store/auth-cache';
import { ConfiguredAccounts } from '../../src/store/configured-accounts';
import { MemoryAccountStore } from '../../src/store/memory-account-store';
import { MemoryOfflineStore } from '../../src/store/offline-store';
import { DEFAULT_ROOM_CONFIG, MemoryRoomStore } from '../../src/store/room-store';
import { MemoryRosterStore, type RosterItem } from '../../src/store/roster-store';
import { MemoryXmlStore } from '../../src/store/xml-store';

const ITERATIONS = 4096;
const item = (jid: string): RosterItem => ({ jid, subscription: 'both', ask: false, approved: false, groups: [] });
const at = new Date('2026-01-02T03:04:05Z');

function memoryStores(): AccountData & { configured: MemoryAccountStore } {
  const cache = new AuthCache(100, 60_000);
  const configured = new MemoryAccountStore(ITERATIONS, cache);
  return {
    configured,
    accounts: new ConfiguredAccounts(configured, new MemoryAccountStore(ITERATIONS, cache)),
    rosters: new MemoryRosterStore(),
    offline: new MemoryOfflineStore(100),
    documents: new MemoryXmlStore(),
  };
}

/** A roster item, a pending request, an offline message, a vCard and private XML for `user`. */
async function leaveData(stores: AccountData, user: string): Promise<void> {
  await stores.rosters.setItem(user, item('bob@d'));
  await stores.rosters.addPendingIn(user, { from: 'carol@d', stanza: '<presence type="subscribe"/>' });
  await stores.offline.push(user, { stanza: '<message><body>hi</body></message>', storedAt: at });
  await stores.documents.set(user, 'vcard', '<vCard xmlns="vcard-temp"/>');
  await stores.documents.set(user, 'private storage:bookmarks', '<storage xmlns="storage:bookmarks"/>');
}

/** What is left of `user`'s data, as one sentence a failure shows. */
async function leftOf(stores: AccountData, user: string): Promise<string> {
  const items = (await stores.rosters.roster(user)).items.length;
  const pending = (await stores.rosters.pendingIn(user)).length;
  const messages = await stores.offline.count(user);
  const documents = (await stores.documents.keysOf(user, '')).length;
  return `${items} items, ${pending} pending, ${messages} messages, ${documents} documents`;
}

describe('removeAccount', () => {
  it('removes the credentials, roster, pending requests, offline messages and documents, so a new account of the name starts empty', async () => {
    const stores = memoryStores();
    await stores.accounts.create('alice', 'secret');
    await leaveData(stores, 'alice');
    expect(await removeAccount(stores, 'alice')).toBe(true);
    expect(await stores.accounts.exists('alice')).toBe(false);
    expect(await stores.accounts.verifyPassword('alice', 'secret')).toBe(false);
    expect(await leftOf(stores, 'alice')).toBe('0 items, 0 pending, 0 messages, 0 documents');
    await stores.accounts.create('alice', 'new');
    expect(await leftOf(stores, 'alice')).toBe('0 items, 0 pending, 0 messages, 0 documents');
  });

  it('leaves other accounts’ data, including their roster items that point at the removed one', async () => {
    const stores = memoryStores();
    await stores.accounts.create('alice', 'secret');
    await stores.accounts.create('bob', 'pw');
    await leaveData(stores, 'alice');
    await leaveData(stores, 'bob');
    await stores.rosters.setItem('bob', item('alice@d'));
    await removeAccount(stores, 'alice');
    expect(await stores.accounts.verifyPassword('bob', 'pw')).toBe(true);
    expect(await leftOf(stores, 'bob')).toBe('2 items, 1 pending, 1 messages, 2 documents');
    expect(await stores.rosters.item('bob', 'alice@d')).toEqual(item('alice@d'));
  });

  it('takes the credentials away before touching any data, so no login starts while the rest goes', async () => {
    const stores = memoryStores();
    await stores.accounts.create('alice', 'secret');
    await leaveData(stores, 'alice');
    const seen: string[] = [];
    // Each removal is recorded when it is asked for, the credentials' once they are gone.
    const recorded = <T extends object>(store: T, method: keyof T & string, after = false): T =>
      Object.assign(Object.create(store) as T, {
        [method]: async (user: string) => {
          if (!after) seen.push(method);
          const result: unknown = await (store[method] as (user: string) => Promise<unknown>).call(store, user);
          if (after) seen.push(`${method} done: login ${(await stores.accounts.verifyPassword('alice', 'secret')) ? 'accepted' : 'refused'}`);
          return result;
        },
      });
    const watched: AccountData = {
      accounts: recorded(stores.accounts, 'delete', true),
      rosters: recorded(stores.rosters, 'deleteUser'),
      offline: recorded(stores.offline, 'deleteUser'),
      documents: recorded(stores.documents, 'deleteUser'),
    };
    await removeAccount(watched, 'alice');
    expect(seen).toEqual(['delete done: login refused', 'deleteUser', 'deleteUser', 'deleteUser']);
    expect(await leftOf(stores, 'alice')).toBe('0 items, 0 pending, 0 messages, 0 documents');
  });

  it('refuses an account of USERS / USERS_FILE and leaves its data as it was', async () => {
    const stores = memoryStores();
    await stores.configured.create('alice', 'secret');
    await leaveData(stores, 'alice');
    await expect(removeAccount(stores, 'alice')).rejects.toMatchObject({ name: 'AccountError', condition: 'read-only' });
    expect(await stores.accounts.verifyPassword('alice', 'secret')).toBe(true);
    expect(await leftOf(stores, 'alice')).toBe('1 items, 1 pending, 1 messages, 2 documents');
  });

  it('finishes a removal cut short when called again, saying the credentials were already gone', async () => {
    const stores = memoryStores();
    await stores.accounts.create('alice', 'secret');
    await leaveData(stores, 'alice');
    const unreachable: AccountData = {
      ...stores,
      offline: Object.assign(Object.create(stores.offline) as MemoryOfflineStore, {
        deleteUser: async () => {
          throw new Error('store unreachable');
        },
      }),
    };
    await expect(removeAccount(unreachable, 'alice')).rejects.toThrow('store unreachable');
    expect(await stores.accounts.exists('alice')).toBe(false);
    expect(await leftOf(stores, 'alice')).toBe('0 items, 0 pending, 1 messages, 0 documents');
    expect(await removeAccount(stores, 'alice')).toBe(false);
    expect(await leftOf(stores, 'alice')).toBe('0 items, 0 pending, 0 messages, 0 documents');
  });

  it("takes the account's affiliations out of every room (XEP-0045), its own rooms passing to the domain, and leaves others' alone", async () => {
    const stores = memoryStores();
    const rooms = new MemoryRoomStore();
    const withRooms: AccountData = { ...stores, rooms: { deleteUser: (user) => storeAffiliationRemoval(rooms, 'd').removeAffiliations(`${user}@d`) } };
    await stores.accounts.create('alice', 'secret');
    await rooms.create('mine', DEFAULT_ROOM_CONFIG, 'alice@d');
    await rooms.setAffiliation('mine', 'bob@d', 'member');
    await rooms.create('theirs', DEFAULT_ROOM_CONFIG, 'bob@d');
    await rooms.setAffiliation('theirs', 'alice@d', 'admin');
    await rooms.create('banned', DEFAULT_ROOM_CONFIG, 'bob@d');
    await rooms.setAffiliation('banned', 'alice@d', 'outcast');
    expect(await removeAccount(withRooms, 'alice')).toBe(true);
    expect(await rooms.affiliationsOf('alice@d')).toEqual([]);
    expect(await rooms.affiliationsOf('bob@d')).toEqual([
      { room: 'banned', affiliation: 'owner' },
      { room: 'mine', affiliation: 'member' },
      { room: 'theirs', affiliation: 'owner' },
    ]);
    expect(await rooms.affiliation('mine', 'd')).toBe('owner');
    // Idempotent: a second call (after the sessions ended) finds nothing left to take.
    expect(await removeAccount(withRooms, 'alice')).toBe(false);
  });
});
