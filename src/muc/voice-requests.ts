import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { Jid } from '../base/jid';
import type { Occupant } from '../store/room-store';
import { affiliationOf, broadcastPresence, viewRoom, type MucRuntime, type RoomView } from './muc-runtime';
import { NS_DATA, NS_MUC_REQUEST } from './namespaces';
import { mayChangeRole } from './permissions';

/** Whether a data form sent to the room is a muc#request form (a voice request or its approval). */
export function isVoiceRequestForm(form: Element): boolean {
  return fieldValue(form, 'FORM_TYPE') === NS_MUC_REQUEST;
}

function fieldValue(form: Element, name: string): string | undefined {
  return (
    form
      .getChildren('field')
      .find((f) => f.attrs.var === name)
      ?.getChildText('value') ?? undefined
  );
}

/**
 * A muc#request form submitted to the room, inside the room's exclusive work: from a visitor, a request
 * for voice (XEP-0045 §7.13), which every moderator receives as a form to fill in; from a moderator,
 * that form sent back (§8.6), which grants voice when muc#request_allow is true.
 */
export async function voiceRequestForm(runtime: MucRuntime, from: Jid, to: Jid, form: Element): Promise<void> {
  const view = await viewRoom(runtime, to.local);
  if (!view) throw new StanzaError('item-not-found', 'no such room');
  const sender = view.occupants.find((o) => o.jid === from.full);
  if (!sender) throw new StanzaError('not-acceptable', 'only occupants may send requests to the room');
  if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'submit the muc#request form');
  const allow = fieldValue(form, 'muc#request_allow');
  if (allow === undefined) return requestVoice(runtime, view, sender, form);
  return answerRequest(runtime, view, sender, form, allow);
}

/** §7.13: a visitor asks for voice; each moderator gets the approval form (§8.6, Example 87). */
async function requestVoice(runtime: MucRuntime, view: RoomView, visitor: Occupant, form: Element): Promise<void> {
  const role = fieldValue(form, 'muc#role') ?? 'participant';
  if (role !== 'participant') throw new StanzaError('bad-request', 'voice is the role participant');
  if (visitor.role !== 'visitor') throw new StanzaError('not-acceptable', 'only visitors ask for voice; you have it');
  const moderators = view.occupants.filter((o) => o.role === 'moderator');
  await runtime.delivery.deliver(moderators.map((moderator) => ({ occupant: moderator, stanza: approvalForm(view, visitor, moderator) })));
}

function approvalForm(view: RoomView, visitor: Occupant, moderator: Occupant): Element {
  const message = new Element('message', { xmlns: 'jabber:client', from: view.jid, to: moderator.jid });
  const form = message.c('x', { xmlns: NS_DATA, type: 'form' });
  form.c('title').t('Voice request');
  form.c('instructions').t(`${visitor.nick} asks for voice in ${view.jid}. Set "Grant voice" and submit this form to the room to give it.`);
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MUC_REQUEST);
  const role = form.c('field', { var: 'muc#role', type: 'list-single', label: 'Requested role' });
  role.c('value').t('participant');
  role.c('option', { label: 'participant' }).c('value').t('participant');
  // Moderators see real JIDs in every room (muc#roomconfig_whois).
  form.c('field', { var: 'muc#jid', type: 'jid-single', label: 'User ID' }).c('value').t(visitor.jid);
  form.c('field', { var: 'muc#roomnick', type: 'text-single', label: 'Nickname' }).c('value').t(visitor.nick);
  form.c('field', { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice' }).c('value').t('false');
  return message;
}

/**
 * §8.6: a moderator's answer. The visitor is found by muc#roomnick (and must still be the muc#jid the
 * form named); true grants voice — role participant, told to every occupant as §8.3 does — and false
 * leaves things as they are. An answer for someone who has voice by now changes nothing.
 */
async function answerRequest(runtime: MucRuntime, view: RoomView, moderator: Occupant, form: Element, allow: string): Promise<void> {
  if (!['1', 'true', '0', 'false'].includes(allow)) throw new StanzaError('bad-request', 'muc#request_allow must be a boolean');
  const nick = fieldValue(form, 'muc#roomnick');
  const jid = fieldValue(form, 'muc#jid');
  const visitor = view.occupants.find((o) => o.nick === nick);
  if (!visitor || (jid !== undefined && jid !== visitor.jid)) throw new StanzaError('item-not-found', 'that occupant is not in the room');
  const standing = { role: moderator.role, affiliation: affiliationOf(view, moderator.jid) };
  if (!mayChangeRole(standing, affiliationOf(view, visitor.jid), 'participant')) throw new StanzaError('not-allowed', 'only moderators grant voice');
  if (allow === '0' || allow === 'false' || visitor.role !== 'visitor') return;
  const voiced: Occupant = { ...visitor, role: 'participant' };
  await runtime.rooms.putOccupant(view.name, voiced);
  const everyone = view.occupants.map((o) => (o.nick === voiced.nick ? voiced : o));
  await broadcastPresence(runtime, { ...view, occupants: everyone }, voiced, everyone, { actor: moderator.nick });
}
