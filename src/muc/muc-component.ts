import { Element } from 'ltx';
import type { Component, ComponentOutlet } from '../components';
import { StanzaError } from '../base/stanza-error';
import { parseJid, type Jid } from '../base/jid';
import { NS_PING } from '../base/namespaces';
import type { GatewayEventHub } from '../events';
import type { Logger } from '../observability/logger';
import type { ArchiveStore } from '../store/archive-store';
import { DEFAULT_ROOM_CONFIG, type RoomConfig, type RoomStore } from '../store/room-store';
import type { MucRuntime } from './muc-runtime';
import { DEFAULT_MUC_LIMITS, type MucLimits, type VCardReader } from './muc-runtime';
import { NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MAM, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER } from './namespaces';
import { iqToOccupant, occupantIqAnswer } from './occupant-iq';
import { outletDelivery, type OccupantDelivery } from './occupant-delivery';
import { GroupService } from './group-service';
import { adminGet, adminSet } from './room-admin';
import { roomArchiveQuery } from './room-archive-query';
import { mamSearchForm } from '../archive';
import { roomInfo, roomItems, serviceInfo, serviceItems } from './room-disco';
import { leave, occupantPresenceIn } from './room-entry';
import { deliveryError, groupMessage, invitation, privateMessage } from './room-messages';
import { ownerGet, ownerSet } from './room-owner';
import { isVoiceRequestForm, voiceRequestForm } from './voice-requests';

export interface MucOptions {
  /** conference.<domain> */
  readonly domain: string;
  /** Its name in disco (XEP-0030). */
  readonly name?: string;
  readonly rooms: RoomStore;
  readonly archive: ArchiveStore;
  /** This node's name in the cluster ('local' alone). */
  readonly node?: string;
  /** The options of a new room (default DEFAULT_ROOM_CONFIG). */
  readonly defaults?: Partial<RoomConfig>;
  /** Occupants per room and rooms per session (default DEFAULT_MUC_LIMITS). */
  readonly limits?: Partial<MucLimits>;
  /** XEP-0045 §10.1.1: a room created by entering it is locked until its owner configures it (default true). */
  readonly lockNewRooms?: boolean;
  /** Users' stored vCards: a vCard request to an occupant JID is answered with the occupant's (default: none answered). */
  readonly vcards?: VCardReader;
  /** The bare JID that stands for the service in groups the business API creates without an owner (the XMPP domain). */
  readonly serviceJid?: string;
  /** How stanzas reach occupants, given the component's outlet (default: through the outlet; cluster mode: the bus). */
  readonly delivery?: (fallback: OccupantDelivery) => OccupantDelivery;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly events?: GatewayEventHub;
}

/**
 * The multi-user chat service (XEP-0045) at conference.<domain>. It keeps nothing in memory: rooms,
 * affiliations and occupants live in the RoomStore, messages in the archive, so any node of a cluster
 * serves any room. Every change to a room (an entry, a message, a kick, a configuration) runs as the
 * room's exclusive work (RoomStore.exclusive), which is the one order of the room across the cluster.
 */
export class MucComponent implements Component {
  readonly domain: string;
  readonly name: string;
  /** The groups (members-only persistent rooms) as the business API drives them (group-service.ts). */
  readonly groups: GroupService;
  private outlet: ComponentOutlet | undefined;
  private readonly runtime: MucRuntime;

  constructor(options: MucOptions) {
    this.domain = options.domain;
    this.name = options.name ?? 'Chatrooms';
    const direct = outletDelivery(() => this.out());
    this.runtime = {
      domain: options.domain,
      node: options.node ?? 'local',
      rooms: options.rooms,
      archive: options.archive,
      serviceJid: options.serviceJid ?? options.domain,
      // Rooms made server-side (groups) from these are never locked; entering a new room locks it (room-entry.ts).
      defaults: { ...DEFAULT_ROOM_CONFIG, ...options.defaults, locked: false },
      limits: { ...DEFAULT_MUC_LIMITS, ...options.limits },
      lockNewRooms: options.lockNewRooms ?? true,
      vcards: options.vcards,
      delivery: options.delivery ? options.delivery(direct) : direct,
      send: (stanza) => this.out().send(stanza),
      now: options.now ?? Date.now,
      logger: options.logger,
      events: options.events,
    };
    this.groups = new GroupService(this.runtime);
  }

  attach(outlet: ComponentOutlet): void {
    this.outlet = outlet;
  }

  private out(): ComponentOutlet {
    if (!this.outlet) throw new Error('the MUC service is not registered');
    return this.outlet;
  }

  /**
   * A session ended, or went unavailable, or vanished with its node: it leaves every room it was in
   * (as if it had sent 'unavailable' to each, XEP-0045 §7.14). The presence service already tells rooms
   * of a session that had sent initial presence; this also covers the others, and the sessions of a
   * dead node (the reaper's presenceChanged), so rooms keep no ghosts.
   */
  async occupantGone(jid: string): Promise<void> {
    for (const room of await this.runtime.rooms.roomsOf(jid)) {
      await this.runtime.rooms.exclusive(room, () => leave(this.runtime, room, jid));
    }
  }

  async handle(stanza: Element): Promise<void> {
    const from = parseJid(String(stanza.attrs.from ?? ''));
    const to = parseJid(String(stanza.attrs.to ?? ''));
    if (!from || !to) return;
    if (to.local === '') return this.toService(stanza);
    const { rooms } = this.runtime;
    switch (stanza.name) {
      case 'presence':
        if (to.resource === '' && stanza.attrs.type === undefined) throw new StanzaError('jid-malformed', 'a nick is needed to enter a room');
        return rooms.exclusive(to.local, () => occupantPresenceIn(this.runtime, stanza, from, to));
      case 'message':
        return this.message(stanza, from, to);
      case 'iq':
        return this.iq(stanza, from, to);
    }
  }

  private async message(stanza: Element, from: Jid, to: Jid): Promise<void> {
    const { rooms } = this.runtime;
    const type = stanza.attrs.type as string | undefined;
    if (type === 'error') return rooms.exclusive(to.local, () => deliveryError(this.runtime, stanza, from, to));
    if (to.resource !== '') {
      // §7.5: groupchat is for the whole room, never for one occupant.
      if (type === 'groupchat') throw new StanzaError('bad-request', 'a groupchat message goes to the room');
      return privateMessage(this.runtime, stanza, from, to);
    }
    if (type === 'groupchat') return rooms.exclusive(to.local, () => groupMessage(this.runtime, stanza, from, to));
    const x = stanza.getChild('x', NS_MUC_USER);
    if (x && (x.getChild('invite') || x.getChild('decline'))) return rooms.exclusive(to.local, () => invitation(this.runtime, from, to, x));
    // §7.13 a visitor's voice request, §8.6 a moderator's answer to one.
    const form = stanza.getChild('x', NS_DATA);
    if (form && isVoiceRequestForm(form)) return rooms.exclusive(to.local, () => voiceRequestForm(this.runtime, from, to, form));
    // Anything else for the room itself (a chat state, a form the room did not ask for) means nothing to it.
    return undefined;
  }

  private async iq(stanza: Element, from: Jid, to: Jid): Promise<void> {
    const type = stanza.attrs.type as string;
    // The answer to an iq the room relayed to an occupant goes back to the occupant who asked.
    if ((type === 'result' || type === 'error') && to.resource !== '') return occupantIqAnswer(this.runtime, stanza, from, to);
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.children.find((c): c is Element => typeof c !== 'string');
    const xmlns = payload?.attrs.xmlns as string | undefined;
    if (!payload) throw new StanzaError('bad-request');
    const { rooms } = this.runtime;
    if (to.resource !== '') {
      // XEP-0410 self-ping, vCards of occupants, and iqs relayed between occupants (occupant-iq.ts).
      const outcome = await iqToOccupant(this.runtime, stanza, payload, from, to);
      if (outcome !== 'relayed') await this.answer(stanza, outcome.answer);
      return;
    }
    if (payload.name === 'ping' && xmlns === NS_PING) {
      if (!(await rooms.room(to.local))) throw new StanzaError('item-not-found', 'no such room');
      return this.answer(stanza);
    }
    if (type === 'get' && xmlns === NS_DISCO_INFO) return this.answer(stanza, await roomInfo(this.runtime, from, to));
    if (type === 'get' && xmlns === NS_DISCO_ITEMS) return this.answer(stanza, await roomItems(this.runtime, from, to));
    if (xmlns === NS_MUC_ADMIN) {
      if (type === 'get') return this.answer(stanza, await adminGet(this.runtime, from, to, payload));
      await rooms.exclusive(to.local, () => adminSet(this.runtime, from, to, payload));
      return this.answer(stanza);
    }
    if (xmlns === NS_MUC_OWNER) {
      if (type === 'get') return this.answer(stanza, await ownerGet(this.runtime, from, to));
      await rooms.exclusive(to.local, () => ownerSet(this.runtime, from, to, payload));
      return this.answer(stanza);
    }
    if (xmlns === NS_MAM && payload.name === 'query') {
      if (type === 'get') return this.answer(stanza, searchForm());
      const { results, fin } = await roomArchiveQuery(this.runtime, from, to, payload);
      // The requester's session is on this node (a component handles what this node received): the
      // results and then the answer go the way occupants' stanzas go, in this order.
      const requester = { jid: from.full, node: this.runtime.node };
      await this.runtime.delivery.deliver([...results, this.result(stanza, fin)].map((s) => ({ occupant: requester, stanza: s })));
      return;
    }
    throw new StanzaError('service-unavailable');
  }

  private async toService(stanza: Element): Promise<void> {
    if (stanza.name !== 'iq') return;
    const type = stanza.attrs.type as string;
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.children.find((c): c is Element => typeof c !== 'string');
    const xmlns = payload?.attrs.xmlns as string | undefined;
    if (type === 'get' && xmlns === NS_DISCO_INFO) return this.answer(stanza, serviceInfo(this.name));
    if (type === 'get' && xmlns === NS_DISCO_ITEMS) return this.answer(stanza, await serviceItems(this.runtime));
    if (payload?.name === 'ping' && xmlns === NS_PING) return this.answer(stanza);
    throw new StanzaError('service-unavailable');
  }

  private result(request: Element, payload?: Element): Element {
    const iq = new Element('iq', { xmlns: 'jabber:client', type: 'result', from: request.attrs.to, to: request.attrs.from });
    if (request.attrs.id !== undefined) iq.attrs.id = request.attrs.id;
    if (payload) iq.cnode(payload);
    return iq;
  }

  private async answer(request: Element, payload?: Element): Promise<void> {
    await this.runtime.send(this.result(request, payload));
  }
}

/** XEP-0313 §5.1.1: the fields a room's archive can be searched by (the same as a user's). */
function searchForm(): Element {
  const query = new Element('query', { xmlns: NS_MAM });
  query.cnode(mamSearchForm());
  return query;
}
