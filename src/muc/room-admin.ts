import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import { parseJid, type Jid } from '../base/jid';
import type { Affiliation, Occupant, Role } from '../store/room-store';
import { affiliationOf, bareOf, broadcastPresence, viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_MUC_ADMIN } from './namespaces';
import { defaultRole, isMember, mayChangeAffiliation, mayChangeRole, mayReadAffiliations } from './permissions';
import { removeOccupant } from './room-entry';
import { membershipChanged } from './group-events';

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];

/** XEP-0045 §9.5, §8.5: the list of one affiliation or one role. */
export async function adminGet(runtime: MucRuntime, from: Jid, to: Jid, query: Element): Promise<Element> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const item = query.getChild('item');
  const answer = new Element('query', { xmlns: NS_MUC_ADMIN });
  const affiliation = item?.attrs.affiliation as Affiliation | undefined;
  const role = item?.attrs.role as Role | undefined;
  if (affiliation && AFFILIATIONS.includes(affiliation) && affiliation !== 'none') {
    if (!mayReadAffiliations(affiliationOf(view, from.bare))) throw new StanzaError('forbidden', 'only admins and owners read affiliation lists');
    for (const [jid, a] of view.affiliations) if (a === affiliation) answer.c('item', { affiliation: a, jid });
    return answer;
  }
  if (role && ROLES.includes(role) && role !== 'none') {
    const asker = view.occupants.find((o) => o.jid === from.full);
    if (asker?.role !== 'moderator') throw new StanzaError('forbidden', 'only moderators read role lists');
    for (const o of view.occupants) if (o.role === role) answer.c('item', { role: o.role, nick: o.nick, jid: o.jid, affiliation: affiliationOf(view, o.jid) });
    return answer;
  }
  throw new StanzaError('bad-request', 'ask for one affiliation or one role');
}

/**
 * XEP-0045 §8 (roles by nick: kick, voice, moderator) and §9/§10 (affiliations by JID: ban, member,
 * admin, owner). Every item is checked before any is applied (§9.2: all or nothing), then each change
 * is told to the occupants it touches.
 */
export async function adminSet(runtime: MucRuntime, from: Jid, to: Jid, query: Element): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const actorAffiliation = affiliationOf(view, from.bare);
  const actor = view.occupants.find((o) => o.jid === from.full);
  const changes: Array<() => Promise<void>> = [];
  const owners = [...view.affiliations].filter(([, a]) => a === 'owner').map(([jid]) => jid);
  for (const item of query.getChildren('item')) {
    const reason = item.getChildText('reason') ?? undefined;
    if (item.attrs.affiliation !== undefined) {
      const next = item.attrs.affiliation as Affiliation;
      const target = parseJid(String(item.attrs.jid ?? ''));
      if (!AFFILIATIONS.includes(next) || !target) throw new StanzaError('bad-request', 'an affiliation item names a JID and an affiliation');
      const current = view.affiliations.get(target.bare) ?? 'none';
      if (!mayChangeAffiliation(actorAffiliation, current, next)) throw new StanzaError('not-allowed', 'you may not change that affiliation');
      // §10.6: a room always keeps an owner.
      if (current === 'owner' && next !== 'owner' && owners.filter((o) => o !== target.bare).length === 0)
        throw new StanzaError('conflict', 'the room would have no owner');
      changes.push(async () => {
        await changeAffiliation(runtime, view, target.bare, next, reason, actor?.nick);
        membershipChanged(runtime, view.jid, target.bare, current, next, from.bare);
      });
    } else if (item.attrs.role !== undefined) {
      const role = item.attrs.role as Role;
      const occupant = view.occupants.find((o) => o.nick === item.attrs.nick);
      if (!ROLES.includes(role)) throw new StanzaError('bad-request', 'unknown role');
      if (!occupant) throw new StanzaError('item-not-found', 'no occupant has that nick');
      const standing = { role: actor?.role ?? 'none', affiliation: actorAffiliation };
      if (!mayChangeRole(standing, affiliationOf(view, occupant.jid), role)) throw new StanzaError('not-allowed', 'you may not change that role');
      changes.push(() => changeRole(runtime, view, occupant, role, reason, actor?.nick));
    } else throw new StanzaError('bad-request', 'an item names a role or an affiliation');
  }
  for (const change of changes) await change();
}

async function changeRole(
  runtime: MucRuntime,
  view: RoomView,
  occupant: Occupant,
  role: Role,
  reason: string | undefined,
  actor: string | undefined,
): Promise<void> {
  const current = (await runtime.rooms.occupants(view.name)).find((o) => o.nick === occupant.nick);
  if (!current) return;
  const everyone = await runtime.rooms.occupants(view.name);
  const fresh = { ...view, occupants: everyone };
  // §8.2: kicked — unavailable with 307 to everyone, the kicked occupant too.
  if (role === 'none') return removeOccupant(runtime, fresh, current, { codes: [307], reason, actor });
  const changed: Occupant = { ...current, role };
  await runtime.rooms.putOccupant(view.name, changed);
  await broadcastPresence(
    runtime,
    fresh,
    changed,
    everyone.map((o) => (o.nick === changed.nick ? changed : o)),
    { reason, actor },
  );
}

/** Sets an affiliation and tells the occupants it touches (§9, §10); the API's group members come through here too. */
export async function changeAffiliation(
  runtime: MucRuntime,
  view: RoomView,
  jid: string,
  affiliation: Affiliation,
  reason: string | undefined,
  actor: string | undefined,
): Promise<void> {
  await runtime.rooms.setAffiliation(view.name, jid, affiliation);
  const fresh = await viewRoom(runtime, view.name);
  if (!fresh) return;
  for (const occupant of fresh.occupants.filter((o) => bareOf(o.jid) === jid)) {
    // §9.1: banned — removed with 301; §9.4 in a members-only room, no longer a member — removed with 321.
    if (affiliation === 'outcast') {
      await removeOccupant(runtime, await current(runtime, view), occupant, { codes: [301], reason, actor });
    } else if (fresh.state.config.membersOnly && !isMember(affiliation)) {
      await removeOccupant(runtime, await current(runtime, view), occupant, { codes: [321], reason, actor });
    } else {
      // §9.3, §10.3: a new affiliation brings the role that goes with it.
      const changed: Occupant = { ...occupant, role: defaultRole(affiliation, fresh.state.config) };
      await runtime.rooms.putOccupant(view.name, changed);
      const now = await current(runtime, view);
      await broadcastPresence(runtime, now, changed, now.occupants, { reason, actor });
    }
  }
}

async function current(runtime: MucRuntime, view: RoomView): Promise<RoomView> {
  return (await viewRoom(runtime, view.name)) ?? view;
}
