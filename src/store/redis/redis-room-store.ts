import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { KeyedQueue } from '../keyed-queue';
import {
  DEFAULT_ROOM_CONFIG,
  type Affiliation,
  type HeldAffiliation,
  type Occupant,
  type RoomConfig,
  type RoomState,
  type RoomStore,
  type RoomSubject,
} from '../room-store';

/** The Redis keys of rooms, under the cluster's prefix (REDIS_PREFIX). */
export class RedisRoomKeys {
  constructor(private readonly prefix: string) {}

  /** Set of every room name. */
  rooms(): string {
    return `${this.prefix}rooms`;
  }
  /** Hash: config (JSON), subject (JSON). */
  room(room: string): string {
    return `${this.prefix}room:${room}`;
  }
  /** Hash of bare JID → affiliation. */
  affiliations(room: string): string {
    return `${this.prefix}room:${room}:aff`;
  }
  /** Hash of nick → occupant (JSON). */
  occupants(room: string): string {
    return `${this.prefix}room:${room}:occ`;
  }
  /** Set of the rooms a full JID is an occupant of. */
  roomsOf(jid: string): string {
    return `${this.prefix}occupant-rooms:${jid}`;
  }
  /** Set of the rooms a bare JID has an affiliation in: the per-user index of affiliations. */
  affiliatedRooms(jid: string): string {
    return `${this.prefix}affiliated-rooms:${jid}`;
  }
  /** Set once the index above was built from the affiliations written before it existed. */
  affiliationIndexBuilt(): string {
    return `${this.prefix}affiliated-rooms-built`;
  }
  /** The room's lock: the token of the node holding it. */
  lock(room: string): string {
    return `${this.prefix}room:${room}:lock`;
  }
}

/** How long a lock outlives a node that died holding it. Work under a lock takes milliseconds. */
const LOCK_TTL_MS = 15_000;
// Deletes the lock only when it is still ours (it may have expired and been taken by another node).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// An affiliation and its index entry in one step. KEYS: the room, its affiliations, the JID's rooms;
// ARGV: the room, the JID, the affiliation. Removal always goes through (it also clears an index entry
// left behind); a new affiliation only in a room that exists, as in the other backends.
const SET_AFFILIATION = `
if ARGV[3] == 'none' then
  redis.call('hdel', KEYS[2], ARGV[2])
  redis.call('srem', KEYS[3], ARGV[1])
  return 1
end
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
redis.call('sadd', KEYS[3], ARGV[1])
return 1`;
/** Rooms read per round trip while the affiliation index is built at start-up. */
const INDEX_BATCH = 500;

interface StoredOccupant extends Occupant {
  /** Entry order, so occupants are listed in the order they entered. */
  readonly since: number;
}

/** Rooms in Redis (cluster mode): every node sees the same rooms, occupants included. */
export class RedisRoomStore implements RoomStore {
  private readonly local = new KeyedQueue();
  private entries = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisRoomKeys,
    /** Waits between attempts to take a busy lock (injected so tests need no real delays). */
    private readonly pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async room(room: string): Promise<RoomState | undefined> {
    const [config, subject] = await this.redis.hmget(this.keys.room(room), 'config', 'subject');
    if (config === null || config === undefined) return undefined;
    return {
      config: { ...DEFAULT_ROOM_CONFIG, ...(JSON.parse(config) as Partial<RoomConfig>) },
      subject: subject ? (JSON.parse(subject) as RoomSubject) : undefined,
    };
  }

  async create(room: string, config: RoomConfig, owner: string): Promise<boolean> {
    // HSETNX decides between two nodes creating the same room at once.
    if ((await this.redis.hsetnx(this.keys.room(room), 'config', JSON.stringify(config))) === 0) return false;
    await this.redis
      .multi()
      .hset(this.keys.affiliations(room), owner, 'owner')
      .sadd(this.keys.affiliatedRooms(owner), room)
      .sadd(this.keys.rooms(), room)
      .exec();
    return true;
  }

  async saveConfig(room: string, config: RoomConfig): Promise<void> {
    await this.redis.hset(this.keys.room(room), 'config', JSON.stringify(config));
  }

  async setSubject(room: string, subject: RoomSubject | undefined): Promise<void> {
    if (subject) await this.redis.hset(this.keys.room(room), 'subject', JSON.stringify(subject));
    else await this.redis.hdel(this.keys.room(room), 'subject');
  }

  async destroy(room: string): Promise<void> {
    // Read and removed under the room's exclusive work, which every affiliation change runs in too.
    const [occupants, affiliated] = await Promise.all([this.occupants(room), this.redis.hkeys(this.keys.affiliations(room))]);
    const multi = this.redis.multi();
    for (const occupant of occupants) multi.srem(this.keys.roomsOf(occupant.jid), room);
    for (const jid of affiliated) multi.srem(this.keys.affiliatedRooms(jid), room);
    await multi.del(this.keys.room(room), this.keys.affiliations(room), this.keys.occupants(room)).srem(this.keys.rooms(), room).exec();
  }

  async rooms(): Promise<Array<{ room: string; config: RoomConfig }>> {
    const names = (await this.redis.smembers(this.keys.rooms())).sort();
    if (names.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.hget(this.keys.room(name), 'config');
    const results = (await pipeline.exec()) ?? [];
    const found: Array<{ room: string; config: RoomConfig }> = [];
    names.forEach((room, i) => {
      const text = results[i]?.[1];
      if (typeof text === 'string') found.push({ room, config: { ...DEFAULT_ROOM_CONFIG, ...(JSON.parse(text) as Partial<RoomConfig>) } });
    });
    return found;
  }

  async affiliations(room: string): Promise<Map<string, Affiliation>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.affiliations(room))) as Array<[string, Affiliation]>);
  }

  async affiliation(room: string, jid: string): Promise<Affiliation> {
    return ((await this.redis.hget(this.keys.affiliations(room), jid)) as Affiliation | null) ?? 'none';
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation): Promise<void> {
    const keys = [this.keys.room(room), this.keys.affiliations(room), this.keys.affiliatedRooms(jid)];
    await this.redis.eval(SET_AFFILIATION, keys.length, ...keys, room, jid, affiliation);
  }

  async affiliationsOf(jid: string): Promise<HeldAffiliation[]> {
    const rooms = (await this.redis.smembers(this.keys.affiliatedRooms(jid))).sort();
    if (rooms.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const room of rooms) pipeline.hget(this.keys.affiliations(room), jid);
    const results = (await pipeline.exec()) ?? [];
    const held: HeldAffiliation[] = [];
    rooms.forEach((room, i) => {
      const affiliation = results[i]?.[1];
      // An entry the room no longer confirms (the start-up build raced a change) is passed over.
      if (typeof affiliation === 'string') held.push({ room, affiliation: affiliation as Affiliation });
    });
    return held;
  }

  /**
   * Builds the per-user index from the rooms' affiliations, once per Redis: affiliations written by a
   * release without the index are found from then on. Called at start-up; a node that finds the index
   * built does nothing. Nodes starting together may both build it (adding to a set is idempotent). A
   * change made meanwhile by another node maintains the index itself; should the build add an entry that
   * change had just removed, affiliationsOf passes it over (the room's hash is what counts). Returns the
   * number of rooms read (0 when the index was there).
   */
  async buildAffiliationIndex(): Promise<number> {
    if ((await this.redis.exists(this.keys.affiliationIndexBuilt())) === 1) return 0;
    let cursor = '0';
    let read = 0;
    do {
      const [next, rooms] = await this.redis.sscan(this.keys.rooms(), cursor, 'COUNT', INDEX_BATCH);
      cursor = next;
      const reads = this.redis.pipeline();
      for (const room of rooms) reads.hkeys(this.keys.affiliations(room));
      const results = (await reads.exec()) ?? [];
      const writes = this.redis.pipeline();
      rooms.forEach((room, i) => {
        const jids = results[i]?.[1];
        if (Array.isArray(jids)) for (const jid of jids as string[]) writes.sadd(this.keys.affiliatedRooms(jid), room);
      });
      if (writes.length > 0) await writes.exec();
      read += rooms.length;
    } while (cursor !== '0');
    await this.redis.set(this.keys.affiliationIndexBuilt(), new Date().toISOString());
    return read;
  }

  async occupants(room: string): Promise<Occupant[]> {
    const stored = Object.values(await this.redis.hgetall(this.keys.occupants(room))).map((text) => JSON.parse(text) as StoredOccupant);
    return stored.sort((a, b) => a.since - b.since).map(({ since: _since, ...occupant }) => occupant);
  }

  async putOccupant(room: string, occupant: Occupant): Promise<void> {
    const key = this.keys.occupants(room);
    const previous = await this.redis.hget(key, occupant.nick);
    // A changed occupant keeps its place; a new one goes last (time, then this node's count, breaks ties).
    const since = previous ? (JSON.parse(previous) as StoredOccupant).since : Date.now() * 1000 + (this.entries++ % 1000);
    const stored: StoredOccupant = { ...occupant, since };
    const multi = this.redis.multi().hset(key, occupant.nick, JSON.stringify(stored)).sadd(this.keys.roomsOf(occupant.jid), room);
    // The nick passed to another JID: the one it had before is no longer here under it.
    if (previous) {
      const before = (JSON.parse(previous) as StoredOccupant).jid;
      if (before !== occupant.jid) multi.srem(this.keys.roomsOf(before), room);
    }
    await multi.exec();
  }

  async removeOccupant(room: string, nick: string): Promise<void> {
    const previous = await this.redis.hget(this.keys.occupants(room), nick);
    if (!previous) return;
    const { jid } = JSON.parse(previous) as StoredOccupant;
    await this.redis.multi().hdel(this.keys.occupants(room), nick).srem(this.keys.roomsOf(jid), room).exec();
  }

  async roomsOf(jid: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.roomsOf(jid))).sort();
  }

  /**
   * One holder per room across the cluster: a lock key set with NX and an expiry, taken after this
   * node's own queue for the room (so a node competes for a room once, not once per waiting stanza),
   * and released only by its holder. Work that outlives LOCK_TTL_MS loses its exclusivity; the work
   * done here (a few store writes and a broadcast) takes milliseconds.
   */
  exclusive<T>(room: string, work: () => Promise<T>): Promise<T> {
    return this.local.run(room, async () => {
      const key = this.keys.lock(room);
      const token = randomUUID();
      for (let attempt = 0; (await this.redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK'; attempt++) {
        await this.pause(Math.min(1 + attempt, 20));
      }
      try {
        return await work();
      } finally {
        await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      }
    });
  }
}
