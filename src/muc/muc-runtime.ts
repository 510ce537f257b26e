import type { Element } from 'ltx';
import type { Logger } from '../observability/logger';
import type { GatewayEventHub } from '../events';
import type { ArchiveStore } from '../store/archive-store';
import type { Affiliation, Occupant, RoomConfig, RoomState, RoomStore } from '../store/room-store';
import type { Delivery, OccupantDelivery } from './occupant-delivery';
import { occupantPresence, type StatusCode } from './occupant-presence';

/** What the parts of the MUC service share: the stores, the way out, the clock. */
export interface MucRuntime {
  /** The service's domain, e.g. conference.example.com. */
  readonly domain: string;
  /** This node's name in the cluster ('local' alone): where the occupants who join here live. */
  readonly node: string;
  readonly rooms: RoomStore;
  readonly archive: ArchiveStore;
  /**
   * The bare JID that stands for the service (the XMPP domain): the owner of groups the business API
   * creates without one and of rooms whose only owner's account was removed. Never reported as a member.
   */
  readonly serviceJid: string;
  /** The options of a new room. */
  readonly defaults: RoomConfig;
  /** Bounds: occupants per room, rooms one session is in at once. */
  readonly limits: MucLimits;
  /** XEP-0045 §10.1.1: a room created by entering it stays locked until configured (default true). */
  readonly lockNewRooms?: boolean;
  /** A user's stored vCard (XEP-0054), by bare JID: what a vCard request to an occupant is answered with. */
  readonly vcards?: VCardReader;
  readonly delivery: OccupantDelivery;
  /** Any other stanza out (answers, errors, notices, invitations), through the component's outlet. */
  send(stanza: Element): Promise<void>;
  now(): number;
  readonly logger?: Logger;
  readonly events?: GatewayEventHub;
}

/** Reads a user's vCard (the <vCard xmlns='vcard-temp'/> element), undefined when none is stored. */
export type VCardReader = (bareJid: string) => Promise<Element | undefined>;

export interface MucLimits {
  readonly maxOccupants: number;
  readonly maxRoomsPerSession: number;
}

/** Bounds no real room or client comes near; an attacker joining rooms in a loop does. */
export const DEFAULT_MUC_LIMITS: MucLimits = { maxOccupants: 1000, maxRoomsPerSession: 100 };

/** A room as one piece of exclusive work sees it. */
export interface RoomView {
  /** The room's bare JID (name@service). */
  readonly jid: string;
  /** Its local part: the key in the store. */
  readonly name: string;
  readonly state: RoomState;
  readonly occupants: Occupant[];
  readonly affiliations: Map<string, Affiliation>;
}

export async function viewRoom(runtime: MucRuntime, name: string): Promise<RoomView | undefined> {
  const state = await runtime.rooms.room(name);
  if (!state) return undefined;
  const [occupants, affiliations] = await Promise.all([runtime.rooms.occupants(name), runtime.rooms.affiliations(name)]);
  return { jid: `${name}@${runtime.domain}`, name, state, occupants, affiliations };
}

/** A bare JID's affiliation in a viewed room. */
export function affiliationOf(view: RoomView, jid: string): Affiliation {
  return view.affiliations.get(bareOf(jid)) ?? 'none';
}

export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

/** What a presence says beyond the occupant's standing. */
export interface PresenceExtra {
  readonly unavailable?: boolean;
  readonly codes?: readonly StatusCode[];
  readonly newNick?: string;
  readonly reason?: string;
  readonly actor?: string;
  /** Codes for the occupant's own copy only (110 is added there anyway). */
  readonly selfCodes?: readonly StatusCode[];
}

/** XEP-0045 §7.2.3: one occupant's presence for every occupant in `to` (each sees what its role may). */
export function presenceDeliveries(view: RoomView, occupant: Occupant, to: readonly Occupant[], extra: PresenceExtra = {}): Delivery[] {
  const affiliation = affiliationOf(view, occupant.jid);
  return to.map((viewer) => ({
    occupant: viewer,
    stanza: occupantPresence({
      room: view.jid,
      occupant,
      affiliation,
      viewer,
      viewerRole: viewer.role,
      config: view.state.config,
      unavailable: extra.unavailable,
      codes: [...(extra.codes ?? []), ...(viewer.jid === occupant.jid ? (extra.selfCodes ?? []) : [])],
      newNick: extra.newNick,
      reason: extra.reason,
      actor: extra.actor,
    }),
  }));
}

/** Sends one occupant's presence to every occupant in `to`. */
export async function broadcastPresence(
  runtime: MucRuntime,
  view: RoomView,
  occupant: Occupant,
  to: readonly Occupant[],
  extra: PresenceExtra = {},
): Promise<void> {
  await runtime.delivery.deliver(presenceDeliveries(view, occupant, to, extra));
}
