import { Element } from 'ltx';
import { cloneElement, parseStrictXml, serializeXml } from '../xml';
import type { Affiliation, Occupant, Role, RoomConfig } from '../store/room-store';
import { NS_MUC_USER } from './namespaces';
import { seesRealJids } from './permissions';

/**
 * XEP-0045 §10.2 / §15.6.2 status codes this service uses: 100 real JIDs visible to all, 110 this is
 * you, 170 the room is logged (archived), 201 room created, 210 nick changed by the service,
 * 301 banned, 303 nick change, 307 kicked, 321 removed by an affiliation change, 322 removed because
 * the room became members-only, 333 removed after a delivery error.
 */
export type StatusCode = 100 | 110 | 170 | 201 | 210 | 301 | 303 | 307 | 321 | 322 | 333;

/** What the presence of one occupant says to one viewer. */
export interface PresenceFacts {
  readonly room: string;
  readonly occupant: Occupant;
  readonly affiliation: Affiliation;
  readonly viewer: Occupant;
  readonly viewerRole: Role;
  readonly config: RoomConfig;
  readonly unavailable?: boolean;
  readonly codes?: readonly StatusCode[];
  /** 303: the new nick. */
  readonly newNick?: string;
  /** The reason of a kick or ban, and who did it (the actor's nick). */
  readonly reason?: string;
  readonly actor?: string;
}

/** XEP-0045 §7.2.3: the occupant's presence from room@service/nick, with its muc#user item. */
export function occupantPresence(facts: PresenceFacts): Element {
  const { occupant, viewer } = facts;
  const presence = new Element('presence', { xmlns: 'jabber:client', from: `${facts.room}/${occupant.nick}`, to: viewer.jid });
  if (facts.unavailable) presence.attrs.type = 'unavailable';
  else if (occupant.presence) {
    // The occupant's own show, status and priority go along (its own <x/> does not).
    for (const child of parseStrictXml(occupant.presence).children) {
      if (typeof child !== 'string' && ['show', 'status', 'priority'].includes(child.name)) presence.cnode(child);
    }
  }
  const x = presence.c('x', { xmlns: NS_MUC_USER });
  const item = x.c('item', { affiliation: facts.affiliation, role: facts.unavailable ? 'none' : occupant.role });
  const self = occupant.jid === viewer.jid;
  if (self || seesRealJids(facts.viewerRole, facts.config)) item.attrs.jid = occupant.jid;
  if (facts.newNick !== undefined) item.attrs.nick = facts.newNick;
  if (facts.actor !== undefined) item.c('actor', { nick: facts.actor });
  if (facts.reason) item.c('reason').t(facts.reason);
  const codes = new Set(facts.codes ?? []);
  if (self) codes.add(110);
  for (const code of [...codes].sort((a, b) => a - b)) x.c('status', { code: String(code) });
  return presence;
}

/** The part of a client's presence kept for the room: show, status, priority. */
export function keptPresence(stanza: Element): string | undefined {
  const kept = stanza.children.filter((c): c is Element => typeof c !== 'string' && ['show', 'status', 'priority'].includes(c.name));
  if (kept.length === 0) return undefined;
  const presence = new Element('presence');
  for (const child of kept) presence.cnode(cloneElement(child));
  return serializeXml(presence);
}
