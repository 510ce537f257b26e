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
import type { SqliteDatabase } from './database';

/**
 * Rooms in the node's SQLite database. Occupants are kept in memory: one node alone serves every
 * session, and a restart ends them, so a stored occupant would only be a ghost after one.
 */
export class SqliteRoomStore implements RoomStore {
  private readonly queue = new KeyedQueue();
  private readonly present = new Map<string, Map<string, Occupant>>();
  private readonly roomQuery;
  private readonly insertRoom;
  private readonly insertAffiliation;
  private readonly updateConfig;
  private readonly updateSubject;
  private readonly deleteRoom;
  private readonly listRooms;
  private readonly affiliationsQuery;
  private readonly affiliationQuery;
  private readonly upsertAffiliation;
  private readonly deleteAffiliation;
  private readonly affiliationsOfQuery;
  private readonly createRoom;

  constructor(db: SqliteDatabase) {
    this.roomQuery = db.prepare<[string], { config: string; subject: string | null }>('SELECT config, subject FROM rooms WHERE room = ?');
    this.insertRoom = db.prepare<[string, string, string]>('INSERT INTO rooms (room, config, created_at) VALUES (?, ?, ?) ON CONFLICT (room) DO NOTHING');
    this.insertAffiliation = db.prepare<[string, string, string]>('INSERT INTO room_affiliations (room, jid, affiliation) VALUES (?, ?, ?)');
    this.updateConfig = db.prepare<[string, string]>('UPDATE rooms SET config = ? WHERE room = ?');
    this.updateSubject = db.prepare<[string | null, string]>('UPDATE rooms SET subject = ? WHERE room = ?');
    this.deleteRoom = db.prepare<[string]>('DELETE FROM rooms WHERE room = ?');
    this.listRooms = db.prepare<[], { room: string; config: string }>('SELECT room, config FROM rooms ORDER BY room');
    this.affiliationsQuery = db.prepare<[string], { jid: string; affiliation: Affiliation }>('SELECT jid, affiliation FROM room_affiliations WHERE room = ?');
    this.affiliationQuery = db.prepare<[string, string], { affiliation: Affiliation }>('SELECT affiliation FROM room_affiliations WHERE room = ? AND jid = ?');
    this.upsertAffiliation = db.prepare<[{ room: string; jid: string; affiliation: string }]>(
      'INSERT INTO room_affiliations (room, jid, affiliation) SELECT @room, @jid, @affiliation WHERE EXISTS (SELECT 1 FROM rooms WHERE room = @room) ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation',
    );
    this.deleteAffiliation = db.prepare<[string, string]>('DELETE FROM room_affiliations WHERE room = ? AND jid = ?');
    // Served by room_affiliations_by_jid (migration 005) alone.
    this.affiliationsOfQuery = db.prepare<[string], HeldAffiliation>('SELECT room, affiliation FROM room_affiliations WHERE jid = ? ORDER BY room');
    // The room and its owner in one transaction.
    this.createRoom = db.transaction((room: string, config: string, owner: string): boolean => {
      if (this.insertRoom.run(room, config, new Date().toISOString()).changes === 0) return false;
      this.insertAffiliation.run(room, owner, 'owner');
      return true;
    });
  }

  async room(room: string): Promise<RoomState | undefined> {
    const row = this.roomQuery.get(room);
    return row && { config: readConfig(row.config), subject: row.subject ? (JSON.parse(row.subject) as RoomSubject) : undefined };
  }

  async create(room: string, config: RoomConfig, owner: string): Promise<boolean> {
    return this.createRoom(room, JSON.stringify(config), owner);
  }

  async saveConfig(room: string, config: RoomConfig): Promise<void> {
    this.updateConfig.run(JSON.stringify(config), room);
  }

  async setSubject(room: string, subject: RoomSubject | undefined): Promise<void> {
    this.updateSubject.run(subject ? JSON.stringify(subject) : null, room);
  }

  async destroy(room: string): Promise<void> {
    this.deleteRoom.run(room);
    this.present.delete(room);
  }

  async rooms(): Promise<Array<{ room: string; config: RoomConfig }>> {
    return this.listRooms.all().map((row) => ({ room: row.room, config: readConfig(row.config) }));
  }

  async affiliations(room: string): Promise<Map<string, Affiliation>> {
    return new Map(this.affiliationsQuery.all(room).map((row) => [row.jid, row.affiliation]));
  }

  async affiliation(room: string, jid: string): Promise<Affiliation> {
    return this.affiliationQuery.get(room, jid)?.affiliation ?? 'none';
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation): Promise<void> {
    if (affiliation === 'none') this.deleteAffiliation.run(room, jid);
    else this.upsertAffiliation.run({ room, jid, affiliation });
  }

  async affiliationsOf(jid: string): Promise<HeldAffiliation[]> {
    return this.affiliationsOfQuery.all(jid);
  }

  async occupants(room: string): Promise<Occupant[]> {
    return [...(this.present.get(room)?.values() ?? [])];
  }

  async putOccupant(room: string, occupant: Occupant): Promise<void> {
    let occupants = this.present.get(room);
    if (!occupants) {
      occupants = new Map();
      this.present.set(room, occupants);
    }
    occupants.set(occupant.nick, occupant);
  }

  async removeOccupant(room: string, nick: string): Promise<void> {
    const occupants = this.present.get(room);
    occupants?.delete(nick);
    if (occupants?.size === 0) this.present.delete(room);
  }

  async roomsOf(jid: string): Promise<string[]> {
    return [...this.present].filter(([, occupants]) => [...occupants.values()].some((o) => o.jid === jid)).map(([room]) => room);
  }

  /** One process holds the database: its own queue per room is the one order. */
  exclusive<T>(room: string, work: () => Promise<T>): Promise<T> {
    return this.queue.run(room, work);
  }
}

/** A stored configuration, with the default for any option added since it was written. */
function readConfig(text: string): RoomConfig {
  return { ...DEFAULT_ROOM_CONFIG, ...(JSON.parse(text) as Partial<RoomConfig>) };
}
