import { storeAffiliationRemoval } from '../../../src/store/affiliation-removal';
import { DEFAULT_ROOM_CONFIG, type RoomStore } from '../../../src/store/room-store';

/** One RoomStore over empty data, and (when the data outlives the instance) another over the same data. */
export interface RoomStoreInstance {
  readonly rooms: RoomStore;
  /** Another instance over the same data, as a second node sees it; undefined for memory. */
  readonly another: (() => Promise<RoomStore>) | undefined;
  /** Whether another instance sees the occupants (cluster mode shares them; a single node keeps its own). */
  readonly sharesOccupants: boolean;
  close(): Promise<void>;
}

export interface RoomStoreBackend {
  readonly name: string;
  fresh(): Promise<RoomStoreInstance>;
}

export function roomStoreContract(backend: RoomStoreBackend): void {
  describe(`${backend.name} RoomStore (XEP-0045 rooms)`, () => {
    const opened: RoomStoreInstance[] = [];
    const open = async (): Promise<RoomStoreInstance> => {
      const instance = await backend.fresh();
      opened.push(instance);
      return instance;
    };
    afterEach(async () => {
      for (const instance of opened.splice(0)) await instance.close();
    });

    it('creates a room once, owned by its creator, and refuses a second creation', async () => {
      const { rooms } = await open();
      expect(await rooms.room('lobby')).toBeUndefined();
      expect(await rooms.create('lobby', DEFAULT_ROOM_CONFIG, 'alice@localhost')).toBe(true);
      expect(await rooms.create('lobby', { ...DEFAULT_ROOM_CONFIG, name: 'other' }, 'bob@localhost')).toBe(false);
      expect(await rooms.room('lobby')).toEqual({ config: DEFAULT_ROOM_CONFIG, subject: undefined });
      expect(await rooms.affiliation('lobby', 'alice@localhost')).toBe('owner');
      expect(await rooms.affiliation('lobby', 'bob@localhost')).toBe('none');
    });

    it('saves the configuration and the subject, and lists rooms by name', async () => {
      const { rooms } = await open();
      await rooms.create('b-room', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.create('a-room', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      const config = { ...DEFAULT_ROOM_CONFIG, name: 'Team', persistent: true, membersOnly: true, memberNotices: 'message' as const };
      await rooms.saveConfig('b-room', config);
      await rooms.setSubject('b-room', { text: 'Plans', nick: 'al', at: 1_700_000_000_000 });
      expect(await rooms.room('b-room')).toEqual({ config, subject: { text: 'Plans', nick: 'al', at: 1_700_000_000_000 } });
      expect(await rooms.rooms()).toEqual([
        { room: 'a-room', config: DEFAULT_ROOM_CONFIG },
        { room: 'b-room', config },
      ]);
      await rooms.setSubject('b-room', undefined);
      expect((await rooms.room('b-room'))?.subject).toBeUndefined();
    });

    it('sets, changes and removes affiliations', async () => {
      const { rooms } = await open();
      await rooms.create('lobby', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.setAffiliation('lobby', 'bob@localhost', 'member');
      await rooms.setAffiliation('lobby', 'carol@localhost', 'outcast');
      await rooms.setAffiliation('lobby', 'bob@localhost', 'admin');
      expect(await rooms.affiliations('lobby')).toEqual(
        new Map([
          ['alice@localhost', 'owner'],
          ['bob@localhost', 'admin'],
          ['carol@localhost', 'outcast'],
        ]),
      );
      await rooms.setAffiliation('lobby', 'carol@localhost', 'none');
      expect(await rooms.affiliation('lobby', 'carol@localhost')).toBe('none');
      expect([...(await rooms.affiliations('lobby')).keys()].sort()).toEqual(['alice@localhost', 'bob@localhost']);
    });

    it("indexes each bare JID's affiliations by room through creation, changes, removal and destruction", async () => {
      const { rooms } = await open();
      await rooms.create('b-room', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.create('a-room', DEFAULT_ROOM_CONFIG, 'bob@localhost');
      await rooms.create('c-room', DEFAULT_ROOM_CONFIG, 'bob@localhost');
      await rooms.setAffiliation('a-room', 'alice@localhost', 'member');
      await rooms.setAffiliation('c-room', 'alice@localhost', 'outcast');
      await rooms.setAffiliation('c-room', 'alice@localhost', 'admin');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([
        { room: 'a-room', affiliation: 'member' },
        { room: 'b-room', affiliation: 'owner' },
        { room: 'c-room', affiliation: 'admin' },
      ]);
      await rooms.setAffiliation('a-room', 'alice@localhost', 'none');
      await rooms.destroy('c-room');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([{ room: 'b-room', affiliation: 'owner' }]);
      expect(await rooms.affiliationsOf('bob@localhost')).toEqual([{ room: 'a-room', affiliation: 'owner' }]);
      expect(await rooms.affiliationsOf('nobody@localhost')).toEqual([]);
      // A room of the same name later starts without the old affiliations, in the index too.
      await rooms.create('c-room', DEFAULT_ROOM_CONFIG, 'carol@localhost');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([{ room: 'b-room', affiliation: 'owner' }]);
    });

    it('gives no affiliation in a room that does not exist, nor indexes one', async () => {
      const { rooms } = await open();
      await rooms.setAffiliation('ghost', 'alice@localhost', 'member');
      expect(await rooms.affiliation('ghost', 'alice@localhost')).toBe('none');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([]);
      await rooms.setAffiliation('ghost', 'alice@localhost', 'none');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([]);
    });

    it("takes a removed account's affiliations out of every room, a room it alone owned passing to the successor (XEP-0045 §10.6)", async () => {
      const { rooms } = await open();
      await rooms.create('owned', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.setAffiliation('owned', 'bob@localhost', 'member');
      await rooms.create('shared', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.setAffiliation('shared', 'carol@localhost', 'owner');
      await rooms.create('joined', DEFAULT_ROOM_CONFIG, 'carol@localhost');
      await rooms.setAffiliation('joined', 'alice@localhost', 'member');
      await rooms.create('banned', DEFAULT_ROOM_CONFIG, 'carol@localhost');
      await rooms.setAffiliation('banned', 'alice@localhost', 'outcast');
      await storeAffiliationRemoval(rooms, 'localhost').removeAffiliations('alice@localhost');
      expect(await rooms.affiliationsOf('alice@localhost')).toEqual([]);
      const left = async (room: string) => Object.fromEntries(await rooms.affiliations(room));
      expect(await left('owned')).toEqual({ 'bob@localhost': 'member', localhost: 'owner' });
      expect(await left('shared')).toEqual({ 'carol@localhost': 'owner' });
      expect(await left('joined')).toEqual({ 'carol@localhost': 'owner' });
      expect(await left('banned')).toEqual({ 'carol@localhost': 'owner' });
      expect(await rooms.affiliationsOf('localhost')).toEqual([{ room: 'owned', affiliation: 'owner' }]);
    });

    it('keeps occupants by nick in the order they entered; a changed occupant keeps its place', async () => {
      const { rooms } = await open();
      await rooms.create('lobby', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.putOccupant('lobby', { nick: 'al', jid: 'alice@localhost/a', role: 'moderator', node: 'n1' });
      await rooms.putOccupant('lobby', { nick: 'bo', jid: 'bob@localhost/b', role: 'participant', node: 'n2' });
      await rooms.putOccupant('lobby', { nick: 'al', jid: 'alice@localhost/a', role: 'participant', node: 'n1' });
      expect(await rooms.occupants('lobby')).toEqual([
        { nick: 'al', jid: 'alice@localhost/a', role: 'participant', node: 'n1' },
        { nick: 'bo', jid: 'bob@localhost/b', role: 'participant', node: 'n2' },
      ]);
      await rooms.removeOccupant('lobby', 'al');
      expect((await rooms.occupants('lobby')).map((o) => o.nick)).toEqual(['bo']);
    });

    it('knows the rooms a full JID is in, through entries, nick changes, departures and destruction', async () => {
      const { rooms } = await open();
      for (const room of ['a', 'b', 'c']) await rooms.create(room, DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.putOccupant('a', { nick: 'al', jid: 'alice@localhost/x', role: 'moderator', node: 'n1' });
      await rooms.putOccupant('b', { nick: 'al', jid: 'alice@localhost/x', role: 'moderator', node: 'n1' });
      await rooms.putOccupant('c', { nick: 'al', jid: 'alice@localhost/y', role: 'moderator', node: 'n1' });
      expect((await rooms.roomsOf('alice@localhost/x')).sort()).toEqual(['a', 'b']);
      await rooms.removeOccupant('a', 'al');
      expect(await rooms.roomsOf('alice@localhost/x')).toEqual(['b']);
      await rooms.destroy('b');
      expect(await rooms.roomsOf('alice@localhost/x')).toEqual([]);
      expect(await rooms.roomsOf('alice@localhost/y')).toEqual(['c']);
      await rooms.removeOccupant('c', 'nobody');
      expect(await rooms.roomsOf('nobody@localhost/z')).toEqual([]);
    });

    it('destroys a room with its affiliations and occupants', async () => {
      const { rooms } = await open();
      await rooms.create('lobby', DEFAULT_ROOM_CONFIG, 'alice@localhost');
      await rooms.putOccupant('lobby', { nick: 'al', jid: 'alice@localhost/a', role: 'moderator', node: 'n1' });
      await rooms.destroy('lobby');
      expect(await rooms.room('lobby')).toBeUndefined();
      expect(await rooms.occupants('lobby')).toEqual([]);
      expect(await rooms.affiliations('lobby')).toEqual(new Map());
      expect(await rooms.rooms()).toEqual([]);
      expect(await rooms.create('lobby', DEFAULT_ROOM_CONFIG, 'bob@localhost')).toBe(true);
      expect(await rooms.affiliation('lobby', 'alice@localhost')).toBe('none');
    });

    it('runs exclusive work for one room one at a time, in the order asked, and other rooms alongside', async () => {
      const { rooms } = await open();
      const log: string[] = [];
      let releaseFirst!: () => void;
      const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
      let firstStarted!: () => void;
      const started = new Promise<void>((resolve) => (firstStarted = resolve));
      const first = rooms.exclusive('lobby', async () => {
        log.push('first:start');
        firstStarted();
        await firstHeld;
        log.push('first:end');
      });
      await started;
      const second = rooms.exclusive('lobby', async () => void log.push('second'));
      await rooms.exclusive('other', async () => void log.push('other room'));
      releaseFirst();
      await Promise.all([first, second]);
      expect(log).toEqual(['first:start', 'other room', 'first:end', 'second']);
    });

    it('goes on after exclusive work that failed', async () => {
      const { rooms } = await open();
      await expect(rooms.exclusive('lobby', async () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
      expect(await rooms.exclusive('lobby', async () => 'next')).toBe('next');
    });

    it('shows rooms and affiliations to another instance over the same data, and occupants where they are shared', async () => {
      const first = await open();
      if (!first.another) return;
      await first.rooms.create('lobby', { ...DEFAULT_ROOM_CONFIG, persistent: true }, 'alice@localhost');
      await first.rooms.setAffiliation('lobby', 'bob@localhost', 'member');
      await first.rooms.putOccupant('lobby', { nick: 'al', jid: 'alice@localhost/a', role: 'moderator', node: 'n1' });
      const second = await first.another();
      expect((await second.room('lobby'))?.config.persistent).toBe(true);
      expect(await second.affiliation('lobby', 'bob@localhost')).toBe('member');
      expect(await second.affiliationsOf('bob@localhost')).toEqual([{ room: 'lobby', affiliation: 'member' }]);
      await second.setAffiliation('lobby', 'bob@localhost', 'none');
      expect(await first.rooms.affiliationsOf('bob@localhost')).toEqual([]);
      expect((await second.occupants('lobby')).map((o) => o.nick)).toEqual(first.sharesOccupants ? ['al'] : []);
      expect(await second.create('lobby', DEFAULT_ROOM_CONFIG, 'bob@localhost')).toBe(false);
    });

    it('lets one instance at a time into a room’s exclusive work when the data is shared', async () => {
      const first = await open();
      if (!first.another || !first.sharesOccupants) return;
      const second = await first.another();
      let inside = 0;
      let most = 0;
      const work = async () => {
        inside++;
        most = Math.max(most, inside);
        // Store round trips while inside, so the other instance gets every chance to enter.
        for (let i = 0; i < 5; i++) await second.affiliation('lobby', 'x@localhost');
        inside--;
      };
      await Promise.all([
        first.rooms.exclusive('lobby', work),
        second.exclusive('lobby', work),
        first.rooms.exclusive('lobby', work),
        second.exclusive('lobby', work),
      ]);
      expect(most).toBe(1);
    });
  });
}
