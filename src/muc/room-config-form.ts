import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { MemberNotices, PrivateMessagePolicy, RoomConfig } from '../store/room-store';
import { NS_DATA, NS_MUC_ROOMCONFIG } from './namespaces';

/** The history a room keeps for newcomers is bounded, whatever an owner asks. */
export const MAX_HISTORY_LENGTH = 200;

type Field =
  | {
      readonly kind: 'text-single';
      readonly var: string;
      readonly label: string;
      readonly get: (c: RoomConfig) => string;
      readonly set: (v: string) => Partial<RoomConfig>;
    }
  | {
      readonly kind: 'boolean';
      readonly var: string;
      readonly label: string;
      readonly get: (c: RoomConfig) => boolean;
      readonly set: (v: boolean) => Partial<RoomConfig>;
    }
  | {
      // XEP-0004 §3.3: a secret, shown masked by clients.
      readonly kind: 'text-private';
      readonly var: string;
      readonly label: string;
      readonly get: (c: RoomConfig) => string;
      readonly set: (v: string) => Partial<RoomConfig>;
    }
  | {
      readonly kind: 'list-single';
      readonly var: string;
      readonly label: string;
      readonly options: readonly string[];
      readonly get: (c: RoomConfig) => string;
      readonly set: (v: string) => Partial<RoomConfig>;
    };

/** Every option of a room as a XEP-0045 §10.2 / §15.5.3 form field (muc#roomconfig_*), and this server's own. */
const FIELDS: readonly Field[] = [
  { kind: 'text-single', var: 'muc#roomconfig_roomname', label: 'Name', get: (c) => c.name, set: (v) => ({ name: v }) },
  { kind: 'text-single', var: 'muc#roomconfig_roomdesc', label: 'Description', get: (c) => c.description, set: (v) => ({ description: v }) },
  {
    kind: 'boolean',
    var: 'muc#roomconfig_persistentroom',
    label: 'Keep the room when the last occupant leaves',
    get: (c) => c.persistent,
    set: (v) => ({ persistent: v }),
  },
  { kind: 'boolean', var: 'muc#roomconfig_publicroom', label: 'List the room in the directory', get: (c) => c.public, set: (v) => ({ public: v }) },
  { kind: 'boolean', var: 'muc#roomconfig_membersonly', label: 'Only members may enter', get: (c) => c.membersOnly, set: (v) => ({ membersOnly: v }) },
  {
    kind: 'boolean',
    var: 'muc#roomconfig_moderatedroom',
    label: 'Only participants with voice may speak',
    get: (c) => c.moderated,
    set: (v) => ({ moderated: v }),
  },
  {
    kind: 'boolean',
    var: 'muc#roomconfig_changesubject',
    label: 'Participants may change the subject',
    get: (c) => c.changeSubject,
    set: (v) => ({ changeSubject: v }),
  },
  {
    kind: 'boolean',
    var: 'muc#roomconfig_allowinvites',
    label: 'Participants may invite others',
    get: (c) => c.allowInvites,
    set: (v) => ({ allowInvites: v }),
  },
  {
    kind: 'list-single',
    var: 'muc#roomconfig_whois',
    label: 'Who may see real JIDs',
    options: ['moderators', 'anyone'],
    get: (c) => c.whois,
    set: (v) => ({ whois: v as RoomConfig['whois'] }),
  },
  {
    kind: 'list-single',
    var: 'muc#roomconfig_allowpm',
    label: 'Who may send private messages',
    options: ['anyone', 'participants', 'moderators', 'none'],
    get: (c) => c.allowPm,
    set: (v) => ({ allowPm: v as PrivateMessagePolicy }),
  },
  {
    kind: 'text-single',
    var: 'muc#roomconfig_historylength',
    label: `Messages of history sent on entering (at most ${MAX_HISTORY_LENGTH})`,
    get: (c) => String(c.historyLength),
    set: (v) => {
      const n = Number(v);
      if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new StanzaError('not-acceptable', 'muc#roomconfig_historylength must be a whole number');
      return { historyLength: Math.min(n, MAX_HISTORY_LENGTH) };
    },
  },
  {
    kind: 'boolean',
    var: 'muc#roomconfig_passwordprotectedroom',
    label: 'A password is needed to enter',
    get: (c) => c.passwordProtected,
    set: (v) => ({ passwordProtected: v }),
  },
  { kind: 'text-private', var: 'muc#roomconfig_roomsecret', label: 'Password', get: (c) => c.password, set: (v) => ({ password: v }) },
  {
    kind: 'boolean',
    var: 'x-gateway#invitesgrantmembership',
    label: 'An invitation from an admin or owner makes the invitee a member',
    get: (c) => c.invitesGrantMembership,
    set: (v) => ({ invitesGrantMembership: v }),
  },
  {
    kind: 'list-single',
    var: 'x-gateway#membernotices',
    label: 'What members outside the room hear of each message',
    options: ['off', 'notice', 'message'],
    get: (c) => c.memberNotices,
    set: (v) => ({ memberNotices: v as MemberNotices }),
  },
];

/** XEP-0045 §10.2: the configuration form of a room, filled with its current options. */
export function configForm(config: RoomConfig, room: string): Element {
  const form = new Element('x', { xmlns: NS_DATA, type: 'form' });
  form.c('title').t(`Configuration of ${room}`);
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MUC_ROOMCONFIG);
  for (const field of FIELDS) {
    const element = form.c('field', { var: field.var, type: field.kind, label: field.label });
    if (field.kind === 'boolean') element.c('value').t(field.get(config) ? '1' : '0');
    else element.c('value').t(field.get(config));
    if (field.kind === 'list-single') for (const option of field.options) element.c('option', { label: option }).c('value').t(option);
  }
  return form;
}

/**
 * XEP-0045 §10.2 / XEP-0004 §3.3: applies a submitted form to a configuration. Fields left out keep
 * their value; an unknown field is ignored (clients send their own); a value outside a field's
 * options is refused as not-acceptable (nothing is changed).
 */
export function applyConfigForm(config: RoomConfig, form: Element): RoomConfig {
  let next: RoomConfig = config;
  for (const element of form.getChildren('field')) {
    const field = FIELDS.find((f) => f.var === element.attrs.var);
    if (!field) continue;
    const value = element.getChildText('value') ?? '';
    switch (field.kind) {
      case 'boolean': {
        // XEP-0004 §3.3: '1' or 'true' is true; '0' or 'false' is false.
        if (!['1', 'true', '0', 'false'].includes(value)) throw new StanzaError('not-acceptable', `${field.var} must be a boolean`);
        next = { ...next, ...field.set(value === '1' || value === 'true') };
        break;
      }
      case 'list-single':
        if (!field.options.includes(value)) throw new StanzaError('not-acceptable', `${field.var} must be one of ${field.options.join(', ')}`);
        next = { ...next, ...field.set(value) };
        break;
      case 'text-single':
      case 'text-private':
        next = { ...next, ...field.set(value) };
        break;
    }
  }
  // §10.1.3: a password-protected room without a password could not be entered by anyone but its admins.
  if (next.passwordProtected && next.password === '') throw new StanzaError('not-acceptable', 'a password-protected room needs muc#roomconfig_roomsecret');
  return next;
}
