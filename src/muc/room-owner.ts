import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import type { RoomConfig } from '../store/room-store';
import { membersGone } from './group-events';
import { affiliationOf, viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_DATA, NS_MUC_OWNER, NS_MUC_USER } from './namespaces';
import { isMember } from './permissions';
import { applyConfigForm, configForm } from './room-config-form';
import { removeOccupant } from './room-entry';

/** XEP-0045 §10.2: the configuration form, for owners. */
export async function ownerGet(runtime: MucRuntime, from: Jid, to: Jid): Promise<Element> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  if (affiliationOf(view, from.bare) !== 'owner') throw new StanzaError('forbidden', 'only owners configure a room');
  const query = new Element('query', { xmlns: NS_MUC_OWNER });
  query.cnode(configForm(view.state.config, view.jid));
  return query;
}

/**
 * XEP-0045 §10.2 a submitted form (§10.1.2 an empty one: the instant room, as it is), §10.2 cancel,
 * §10.9 destroy. The first submitted form unlocks a new room (§10.1.1); cancelling the configuration
 * of a room still locked destroys it (§10.1.3). A room that becomes members-only removes those who are
 * not members (322); every occupant hears that the configuration changed (104).
 */
export async function ownerSet(runtime: MucRuntime, from: Jid, to: Jid, query: Element): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  if (affiliationOf(view, from.bare) !== 'owner') throw new StanzaError('forbidden', 'only owners configure a room');
  const destroy = query.getChild('destroy');
  if (destroy) return destroyRoom(runtime, view, destroy, from.bare);
  const form = query.getChild('x', NS_DATA);
  if (!form) return;
  if (form.attrs.type === 'cancel') {
    if (view.state.config.locked) await destroyRoom(runtime, view, undefined, from.bare);
    return;
  }
  if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'submit the form or cancel it');
  const before = view.state.config;
  const config: RoomConfig = { ...applyConfigForm(before, form), locked: false };
  await runtime.rooms.saveConfig(view.name, config);
  // Accepting the defaults of a new room (§10.1.2) changes nothing the occupants need to hear of.
  if (before.locked && sameOptions(config, { ...before, locked: false })) return;
  let occupants = view.occupants;
  if (config.membersOnly && !before.membersOnly) {
    for (const occupant of view.occupants.filter((o) => !isMember(affiliationOf(view, o.jid)))) {
      await removeOccupant(runtime, { ...view, state: { ...view.state, config }, occupants }, occupant, { codes: [322] });
      occupants = occupants.filter((o) => o.nick !== occupant.nick);
    }
  }
  // §10.2.1: occupants hear that the configuration changed (104).
  await runtime.delivery.deliver(
    occupants.map((occupant) => {
      const message = new Element('message', { xmlns: 'jabber:client', type: 'groupchat', from: view.jid, to: occupant.jid });
      message.c('x', { xmlns: NS_MUC_USER }).c('status', { code: '104' });
      return { occupant, stanza: message };
    }),
  );
}

function sameOptions(a: RoomConfig, b: RoomConfig): boolean {
  return (Object.keys(a) as Array<keyof RoomConfig>).every((key) => a[key] === b[key]);
}

/**
 * §10.9: every occupant hears the room is gone (with the alternative venue and reason, if given); then
 * it is, and each of its members is reported removed (`by`: the owner who destroyed it, when a user did).
 * Runs as the room's exclusive work.
 */
export async function destroyRoom(runtime: MucRuntime, view: RoomView, destroy: Element | undefined, by: string | undefined): Promise<void> {
  for (const occupant of view.occupants) {
    const presence = new Element('presence', { xmlns: 'jabber:client', type: 'unavailable', from: `${view.jid}/${occupant.nick}`, to: occupant.jid });
    const x = presence.c('x', { xmlns: NS_MUC_USER });
    x.c('item', { affiliation: 'none', role: 'none' });
    const gone = x.c('destroy');
    if (destroy?.attrs.jid !== undefined) gone.attrs.jid = destroy.attrs.jid;
    const reason = destroy?.getChildText('reason');
    if (reason) gone.c('reason').t(reason);
    await runtime.delivery.deliver([{ occupant, stanza: presence }]);
  }
  await runtime.rooms.destroy(view.name);
  await runtime.archive.deleteOwner(view.jid);
  membersGone(runtime, view, by);
}
