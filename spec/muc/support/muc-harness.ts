import type { Element } from 'ltx';
import { StanzaError } from '../../../src/base/stanza-error';
import type { ComponentOutlet } from '../../../src/components';
import { MucComponent, type MucOptions } from '../../../src/muc/muc-component';
import { MemoryArchiveStore } from '../../../src/store/memory-archive-store';
import { MemoryRoomStore } from '../../../src/store/room-store';
import { parseStrictXml } from '../../../src/xml';

export const SERVICE = 'conference.localhost';

/** XEP-0045 §10.1.2: the owner accepts the default configuration of a new room. */
export const INSTANT_ROOM = `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>`;

/**
 * The MUC component alone, with an outlet that records what it sends: a stanza from a user is handed
 * to it as the router would (from stamped), and a StanzaError it throws is kept as that stanza's answer.
 */
export class MucHarness {
  readonly sent: Element[] = [];
  readonly rooms = new MemoryRoomStore();
  readonly archive: MemoryArchiveStore;
  readonly muc: MucComponent;
  clock = Date.UTC(2026, 0, 1, 12, 0, 0);

  constructor(options: Partial<MucOptions> = {}) {
    this.archive = new MemoryArchiveStore({ maxPerOwner: 0, maxAgeMs: 0 }, () => new Date(this.clock));
    this.muc = new MucComponent({ domain: SERVICE, rooms: this.rooms, archive: this.archive, now: () => this.clock, ...options });
    const outlet: ComponentOutlet = { send: async (stanza) => void this.sent.push(stanza) };
    this.muc.attach(outlet);
  }

  /** Hands the component a stanza from `from`; resolves with the error it answered with, if any. */
  async send(from: string, xml: string): Promise<StanzaError | undefined> {
    const stanza = parseStrictXml(xml);
    stanza.attrs.from = from;
    stanza.attrs.xmlns ??= 'jabber:client';
    try {
      await this.muc.handle(stanza);
      return undefined;
    } catch (err) {
      if (err instanceof StanzaError) return err;
      throw err;
    }
  }

  /** Everything sent since the last call. */
  take(): Element[] {
    return this.sent.splice(0);
  }

  /** What one recipient got since the last take(), in order (the rest stays). */
  to(jid: string): Element[] {
    return this.sent.filter((s) => s.attrs.to === jid);
  }

  async join(user: string, room: string, nick: string, extra = ''): Promise<StanzaError | undefined> {
    return this.send(user, `<presence to='${room}@${SERVICE}/${nick}'><x xmlns='http://jabber.org/protocol/muc'>${extra}</x></presence>`);
  }

  /**
   * Creates a room by entering it and accepts the default configuration (XEP-0045 §10.1.2 instant
   * room: an empty submitted form), which unlocks it for others.
   */
  async create(user: string, room: string, nick: string, extra = ''): Promise<void> {
    const refused = await this.join(user, room, nick, extra);
    if (refused) throw new Error(`could not create ${room}: ${refused.condition}`);
    const answer = await this.iq(user, `${room}@${SERVICE}`, 'set', INSTANT_ROOM);
    if (answer instanceof StanzaError) throw new Error(`could not unlock ${room}: ${answer.condition}`);
  }

  async say(user: string, room: string, text: string): Promise<StanzaError | undefined> {
    return this.send(user, `<message to='${room}@${SERVICE}' type='groupchat'><body>${text}</body></message>`);
  }

  async iq(user: string, to: string, type: 'get' | 'set', payload: string): Promise<Element | StanzaError> {
    const id = `iq${Math.random().toString(36).slice(2)}`;
    const error = await this.send(user, `<iq to='${to}' type='${type}' id='${id}'>${payload}</iq>`);
    if (error) return error;
    const answer = this.sent.find((s) => s.name === 'iq' && s.attrs.id === id);
    if (!answer) throw new Error(`no answer to ${payload}`);
    return answer;
  }
}

export const statusCodes = (presence: Element): string[] =>
  presence
    .getChild('x', 'http://jabber.org/protocol/muc#user')
    ?.getChildren('status')
    .map((s) => String(s.attrs.code)) ?? [];

export const itemOf = (presence: Element): Element | undefined => presence.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item');
