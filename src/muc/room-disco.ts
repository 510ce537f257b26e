import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import { affiliationOf, viewRoom, type MucRuntime } from './muc-runtime';
import { NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MAM, NS_MUC, NS_MUC_REQUEST, NS_MUC_ROOMINFO, NS_MUC_SELF_PING, NS_SID } from './namespaces';

/** XEP-0045 §6.1: the service is a text conference service. */
export function serviceInfo(name: string): Element {
  const query = new Element('query', { xmlns: NS_DISCO_INFO });
  query.c('identity', { category: 'conference', type: 'text', name });
  for (const feature of [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_SELF_PING, NS_MAM, NS_SID]) query.c('feature', { var: feature });
  return query;
}

/** XEP-0045 §6.3: the public rooms (hidden ones are left out). */
export async function serviceItems(runtime: MucRuntime): Promise<Element> {
  const query = new Element('query', { xmlns: NS_DISCO_ITEMS });
  for (const { room, config } of await runtime.rooms.rooms()) {
    // A locked room does not officially exist yet (XEP-0045 §10.1.1).
    if (!config.public || config.locked) continue;
    const item = query.c('item', { jid: `${room}@${runtime.domain}` });
    item.attrs.name = config.name || room;
  }
  return query;
}

/** XEP-0045 §6.4: the room's identity, its features (one of each pair) and the muc#roominfo form. */
export async function roomInfo(runtime: MucRuntime, from: Jid, to: Jid): Promise<Element> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const { config } = view.state;
  // §6.4: a hidden members-only room is not described to strangers.
  const affiliation = affiliationOf(view, from.bare);
  if (!config.public && config.membersOnly && affiliation === 'none') throw new StanzaError('item-not-found', 'no such room');
  // §7.2.11: nor is a locked room, to anyone but its owners.
  if (config.locked && affiliation !== 'owner') throw new StanzaError('item-not-found', 'no such room');
  const query = new Element('query', { xmlns: NS_DISCO_INFO });
  query.c('identity', { category: 'conference', type: 'text', name: config.name || to.local });
  const features = [
    NS_MUC,
    NS_MAM,
    NS_SID,
    NS_MUC_SELF_PING,
    // §7.13: visitors may ask for voice with the muc#request form.
    NS_MUC_REQUEST,
    config.persistent ? 'muc_persistent' : 'muc_temporary',
    config.membersOnly ? 'muc_membersonly' : 'muc_open',
    config.moderated ? 'muc_moderated' : 'muc_unmoderated',
    config.public ? 'muc_public' : 'muc_hidden',
    config.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
    config.passwordProtected ? 'muc_passwordprotected' : 'muc_unsecured',
  ];
  for (const feature of features) query.c('feature', { var: feature });
  const form = query.c('x', { xmlns: NS_DATA, type: 'result' });
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MUC_ROOMINFO);
  form.c('field', { var: 'muc#roominfo_description', label: 'Description' }).c('value').t(config.description);
  form
    .c('field', { var: 'muc#roominfo_subject', label: 'Subject' })
    .c('value')
    .t(view.state.subject?.text ?? '');
  form.c('field', { var: 'muc#roominfo_occupants', label: 'Number of occupants' }).c('value').t(String(view.occupants.length));
  return query;
}

/** XEP-0045 §6.5: occupants are listed to those in the room only (their nicks are not public). */
export async function roomItems(runtime: MucRuntime, from: Jid, to: Jid): Promise<Element> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const query = new Element('query', { xmlns: NS_DISCO_ITEMS });
  if (!view.occupants.some((o) => o.jid === from.full)) return query;
  for (const occupant of view.occupants) query.c('item', { jid: `${view.jid}/${occupant.nick}` });
  return query;
}
