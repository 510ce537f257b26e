import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import { NS_PING } from '../base/namespaces';
import { cloneElement } from '../xml';
import { bareOf, viewRoom, type MucRuntime } from './muc-runtime';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VCARD } from './namespaces';

/** What became of an iq to an occupant: answered by the room (result with this payload), or relayed. */
export type OccupantIqOutcome = { readonly answer: Element | undefined } | 'relayed';

/** The relayed iq's id: this prefix, then the asker's id and the target's nick (base64url JSON). */
const RELAY_PREFIX = 'muc-iq.';

/**
 * An iq get or set to an occupant JID (room@service/nick), from an occupant:
 * - a ping to one's own occupant JID is the XEP-0410 self-ping: result while in the room;
 * - a vCard get (XEP-0054) is answered from the occupant's stored vCard, from the occupant JID —
 *   XEP-0045's IQ business rules send vCard requests to the bare real JID, whose server (this one) answers them;
 *   a vCard set is forbidden (one sets one's own vCard only);
 * - anything else (disco, version, time, a ping to someone else, …) goes to the occupant's real full
 *   JID from the asker's occupant JID, so neither learns the other's real JID; the answer comes back
 *   through the room (occupantIqAnswer).
 * Keeps no state: the relayed id carries what the answer needs, so any node of a cluster relays it back.
 */
export async function iqToOccupant(runtime: MucRuntime, stanza: Element, payload: Element, from: Jid, to: Jid): Promise<OccupantIqOutcome> {
  const xmlns = payload.attrs.xmlns as string | undefined;
  const view = await viewRoom(runtime, to.local);
  const asker = view?.occupants.find((o) => o.jid === from.full);
  if (payload.name === 'ping' && xmlns === NS_PING && asker?.nick === to.resource) return { answer: undefined };
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  if (!asker) {
    if (payload.name === 'ping' && xmlns === NS_PING) throw new StanzaError('not-acceptable', 'you are not in the room under that nick'); // XEP-0410
    // §6.7: a non-occupant's disco request to an occupant JID is bad-request; other iqs are not relayed for it either.
    if (xmlns === NS_DISCO_INFO || xmlns === NS_DISCO_ITEMS) throw new StanzaError('bad-request', 'only occupants query occupants');
    throw new StanzaError('not-acceptable', 'only occupants send iqs to occupants');
  }
  const target = view.occupants.find((o) => o.nick === to.resource);
  if (!target) throw new StanzaError('item-not-found', 'no occupant has that nick');
  if (payload.name === 'vCard' && xmlns === NS_VCARD) {
    if (stanza.attrs.type !== 'get') throw new StanzaError('forbidden', 'you may only set your own vCard');
    if (!runtime.vcards) throw new StanzaError('service-unavailable');
    return { answer: (await runtime.vcards(bareOf(target.jid))) ?? new Element('vCard', { xmlns: NS_VCARD }) };
  }
  const relayed = new Element('iq', {
    xmlns: 'jabber:client',
    type: stanza.attrs.type,
    id: RELAY_PREFIX + Buffer.from(JSON.stringify([String(stanza.attrs.id ?? ''), target.nick])).toString('base64url'),
    from: `${view.jid}/${asker.nick}`,
    to: target.jid,
  });
  for (const child of stanza.children) if (typeof child !== 'string') relayed.cnode(cloneElement(child));
  await runtime.delivery.deliver([{ occupant: target, stanza: relayed }]);
  return 'relayed';
}

/**
 * The answer (result or error) to a relayed iq, back from the target's real JID to the asker's occupant
 * JID: it goes to the asker from the target's occupant JID with the asker's own id. It is passed on only
 * when it comes from the occupant the iq was relayed to (the router stamps `from`), so no one can answer
 * in another occupant's name; an answer to nothing this room relayed is dropped (RFC 6120 §8.2.3).
 */
export async function occupantIqAnswer(runtime: MucRuntime, stanza: Element, from: Jid, to: Jid): Promise<void> {
  const relay = relayOf(String(stanza.attrs.id ?? ''));
  if (!relay) return;
  const view = await viewRoom(runtime, to.local);
  const asker = view?.occupants.find((o) => o.nick === to.resource);
  const target = view?.occupants.find((o) => o.nick === relay.targetNick);
  if (!view || !asker || !target || target.jid !== from.full) return;
  const answer = new Element('iq', { xmlns: 'jabber:client', type: stanza.attrs.type, id: relay.id, from: `${view.jid}/${target.nick}`, to: asker.jid });
  for (const child of stanza.children) if (typeof child !== 'string') answer.cnode(cloneElement(child));
  await runtime.delivery.deliver([{ occupant: asker, stanza: answer }]);
}

function relayOf(id: string): { id: string; targetNick: string } | undefined {
  if (!id.startsWith(RELAY_PREFIX)) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(id.slice(RELAY_PREFIX.length), 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'string' || typeof decoded[1] !== 'string') return undefined;
    return { id: decoded[0], targetNick: decoded[1] };
  } catch {
    return undefined;
  }
}
