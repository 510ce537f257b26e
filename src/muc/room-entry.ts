import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import type { Occupant } from '../store/room-store';
import { historyRequest, historyStart, pickHistory } from './discussion-history';
import { affiliationOf, broadcastPresence, presenceDeliveries, viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_DELAY, NS_MUC, NS_SID } from './namespaces';
import { keptPresence, type StatusCode } from './occupant-presence';
import { defaultRole, entryRefusal, type EntryRefusal } from './permissions';
import { suppliedPassword } from './room-password';
import { membersGone, membershipChanged } from './group-events';
import { parseStrictXml, serializeXml } from '../xml';

/**
 * XEP-0045 §7.2 entering a room (created on first entry, §10.1), §7.6 changing nick, §7.7 presence
 * updates, §7.14 leaving. `to` is room@service/nick; runs inside the room's exclusive work.
 */
export async function occupantPresenceIn(runtime: MucRuntime, stanza: Element, from: Jid, to: Jid): Promise<void> {
  const nick = to.resource;
  if (stanza.attrs.type === 'unavailable') return leave(runtime, to.local, from.full);
  if (stanza.attrs.type !== undefined) return undefined; // subscriptions and errors mean nothing to a room
  if (nick === '') throw new StanzaError('jid-malformed', 'a nick is needed to enter a room'); // §7.2.1
  let view = await viewRoom(runtime, to.local);
  const present = view?.occupants.find((o) => o.jid === from.full);
  const holder = view?.occupants.find((o) => o.nick === nick);
  if (view && present) {
    if (present.nick === nick) return updatePresence(runtime, view, present, stanza);
    if (holder) throw new StanzaError('conflict', 'that nick is taken in this room'); // §7.6.3
    return changeNick(runtime, view, present, nick, stanza);
  }
  // §7.2.11: a locked room does not exist yet for anyone but its owners (before a nick conflict gives it away).
  if (view && entryRefusal(affiliationOf(view, from.bare), view.state.config) === 'item-not-found') throw refusalError('item-not-found');
  if (holder) throw new StanzaError('conflict', 'that nick is taken in this room'); // §7.2.9
  // Bounds: §7.2.10 a full room is service-unavailable; a session in too many rooms is refused before
  // it makes another (joining rooms in a loop costs every occupant a presence each time).
  if (view && view.occupants.length >= runtime.limits.maxOccupants) throw new StanzaError('service-unavailable', 'the room is full');
  if ((await runtime.rooms.roomsOf(from.full)).length >= runtime.limits.maxRoomsPerSession) {
    throw new StanzaError('resource-constraint', 'you are in as many rooms as a session may be');
  }
  const codes: StatusCode[] = [];
  if (!view) {
    // §10.1.1: the creator is the owner; the room stays locked (MUC_LOCK_NEW_ROOMS) until an owner
    // submits the configuration form — an empty one accepts the defaults (§10.1.2 instant room).
    const config = { ...runtime.defaults, locked: runtime.lockNewRooms !== false };
    if (await runtime.rooms.create(to.local, config, from.bare))
      membershipChanged(runtime, `${to.local}@${runtime.domain}`, from.bare, 'none', 'owner', from.bare);
    view = await viewRoom(runtime, to.local);
    if (!view) throw new StanzaError('internal-server-error');
    codes.push(201);
  }
  const affiliation = affiliationOf(view, from.bare);
  const refusal = entryRefusal(affiliation, view.state.config, suppliedPassword(stanza));
  if (refusal) throw refusalError(refusal);
  const occupant: Occupant = { nick, jid: from.full, role: defaultRole(affiliation, view.state.config), node: runtime.node, presence: keptPresence(stanza) };
  await runtime.rooms.putOccupant(view.name, occupant);
  const others = view.occupants;
  const everyone = [...others, occupant];
  // §7.2.3: the newcomer hears every occupant first, then itself (110, last), the others hear it —
  // one delivery, which keeps each occupant's stanzas in this order.
  const selfCodes: StatusCode[] = [...codes, 170];
  if (view.state.config.whois === 'anyone') selfCodes.push(100);
  await runtime.delivery.deliver([
    ...others.flatMap((other) => presenceDeliveries(view, other, [occupant])),
    ...presenceDeliveries(view, occupant, everyone, { selfCodes }),
  ]);
  await sendHistory(runtime, view, occupant, stanza);
  // §7.2.15: the subject comes last, also when there is none (an empty <subject/>).
  const subject = view.state.subject;
  const message = new Element('message', {
    xmlns: 'jabber:client',
    type: 'groupchat',
    from: subject?.nick ? `${view.jid}/${subject.nick}` : view.jid,
    to: occupant.jid,
  });
  message.c('subject').t(subject?.text ?? '');
  await runtime.delivery.deliver([{ occupant, stanza: message }]);
}

/** The presence error of a refused entry, as XEP-0045 §7.2.6–§7.2.11 word it. */
function refusalError(refusal: EntryRefusal): StanzaError {
  switch (refusal) {
    case 'item-not-found':
      return new StanzaError('item-not-found', 'the room is locked until its owner configures it'); // §7.2.11
    case 'forbidden':
      return new StanzaError('forbidden', 'you are banned from this room'); // §7.2.8
    case 'registration-required':
      return new StanzaError('registration-required', 'this room is for members only'); // §7.2.7
    case 'not-authorized':
      return new StanzaError('not-authorized', 'this room needs its password'); // §7.2.6
  }
}

async function updatePresence(runtime: MucRuntime, view: RoomView, occupant: Occupant, stanza: Element): Promise<void> {
  const updated: Occupant = { ...occupant, presence: keptPresence(stanza) };
  await runtime.rooms.putOccupant(view.name, updated);
  const everyone = view.occupants.map((o) => (o.nick === updated.nick ? updated : o));
  await broadcastPresence(runtime, view, updated, everyone);
}

/** §7.6: unavailable from the old nick with 303 and the new nick, then available from the new one. */
async function changeNick(runtime: MucRuntime, view: RoomView, occupant: Occupant, nick: string, stanza: Element): Promise<void> {
  await broadcastPresence(runtime, view, occupant, view.occupants, { unavailable: true, codes: [303], newNick: nick });
  await runtime.rooms.removeOccupant(view.name, occupant.nick);
  const renamed: Occupant = { ...occupant, nick, presence: keptPresence(stanza) };
  await runtime.rooms.putOccupant(view.name, renamed);
  await broadcastPresence(runtime, view, renamed, [...view.occupants.filter((o) => o.nick !== occupant.nick), renamed]);
}

/** §7.14: the occupant leaves; everyone, the leaver included (110), hears it. */
export async function leave(runtime: MucRuntime, room: string, full: string): Promise<void> {
  const view = await viewRoom(runtime, room);
  const occupant = view?.occupants.find((o) => o.jid === full);
  if (!view || !occupant) return;
  await removeOccupant(runtime, view, occupant, {});
}

/**
 * Takes an occupant out of the room (leaving, kicked 307, banned 301, removed by an affiliation change
 * 321 or by members-only 322, after a delivery error 333) and tells everyone, the occupant too. A
 * temporary room goes when its last occupant does (§10.1.3).
 */
export async function removeOccupant(
  runtime: MucRuntime,
  view: RoomView,
  occupant: Occupant,
  why: { codes?: readonly StatusCode[]; reason?: string; actor?: string; tellOccupant?: boolean },
): Promise<void> {
  await runtime.rooms.removeOccupant(view.name, occupant.nick);
  const remaining = view.occupants.filter((o) => o.nick !== occupant.nick);
  const audience = why.tellOccupant === false ? remaining : [...remaining, occupant];
  await broadcastPresence(runtime, view, occupant, audience, { unavailable: true, codes: why.codes, reason: why.reason, actor: why.actor });
  const current = await runtime.rooms.occupants(view.name);
  if (current.length === 0 && !view.state.config.persistent) {
    // A temporary room leaves nothing behind: a new room of the same name starts with no history
    // (its sequence numbers go on: a number is never given twice), and its members are members no more.
    const affiliations = await runtime.rooms.affiliations(view.name);
    await runtime.rooms.destroy(view.name);
    await runtime.archive.deleteOwner(view.jid);
    membersGone(runtime, { ...view, affiliations }, undefined);
  }
}

/** §7.2.15: the discussion history the newcomer asked for, with XEP-0203 delay stamps. */
async function sendHistory(runtime: MucRuntime, view: RoomView, occupant: Occupant, join: Element): Promise<void> {
  const length = view.state.config.historyLength;
  if (length <= 0) return;
  const request = historyRequest(join.getChild('x', NS_MUC)?.getChild('history'));
  if (request.maxStanzas === 0 || request.maxChars === 0) return;
  const start = historyStart(request, runtime.now());
  const page = await runtime.archive.query({ owner: view.jid, start, limit: Math.min(length, request.maxStanzas ?? length), before: '' });
  if ('unknownId' in page) return;
  const rendered = page.messages.map((archived) => {
    const message = parseStrictXml(archived.stanza);
    message.attrs.to = occupant.jid;
    message.attrs.from = archived.with;
    // XEP-0359 §3: the room's stanza-id, the one a MAM query gives too.
    message.c('stanza-id', { xmlns: NS_SID, by: view.jid, id: archived.archiveId });
    message.c('delay', { xmlns: NS_DELAY, from: view.jid, stamp: archived.ts.toISOString() });
    return message;
  });
  const picked = pickHistory(rendered, request, length, (m) => serializeXml(m).length);
  await runtime.delivery.deliver(picked.map((stanza) => ({ occupant, stanza })));
}
