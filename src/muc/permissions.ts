import type { Affiliation, PrivateMessagePolicy, Role, RoomConfig } from '../store/room-store';
import { passwordMatches } from './room-password';

/**
 * The rules of XEP-0045 §5 (roles, affiliations and what each may do), pure: decided from the
 * standing of the actor, of the target and the room's configuration.
 */

const RANK: Record<Affiliation, number> = { outcast: 0, none: 1, member: 2, admin: 3, owner: 4 };

/** XEP-0045 §5.1.1: the role an occupant enters with. */
export function defaultRole(affiliation: Affiliation, config: RoomConfig): Role {
  switch (affiliation) {
    case 'owner':
    case 'admin':
      return 'moderator';
    case 'member':
      return 'participant';
    case 'none':
      return config.moderated ? 'visitor' : 'participant';
    case 'outcast':
      return 'none';
  }
}

/** Why someone may not enter a room: the error condition of the presence answer. */
export type EntryRefusal = 'item-not-found' | 'forbidden' | 'registration-required' | 'not-authorized';

/**
 * XEP-0045 §7.2 (section numbers of version 1.31): why someone may not enter, if they may not — in
 * this order: a locked room looks as if it did not exist, except to its owners (§7.2.11, §10.1.1);
 * outcasts are banned (§7.2.8); a members-only room wants members (§7.2.7); a password-protected room
 * wants its password (§7.2.6), which its admins and owners, who may read it in the form, need not give.
 */
export function entryRefusal(affiliation: Affiliation, config: RoomConfig, password?: string): EntryRefusal | undefined {
  if (config.locked && affiliation !== 'owner') return 'item-not-found';
  if (affiliation === 'outcast') return 'forbidden';
  if (config.membersOnly && RANK[affiliation] < RANK.member) return 'registration-required';
  if (config.passwordProtected && RANK[affiliation] < RANK.admin && !passwordMatches(password, config.password)) return 'not-authorized';
  return undefined;
}

/** XEP-0045 §8.1: moderators may change the subject; participants too when the room allows it. */
export function maySetSubject(role: Role, config: RoomConfig): boolean {
  return role === 'moderator' || (role === 'participant' && config.changeSubject);
}

/** XEP-0045 §7.4: visitors do not speak in a moderated room. */
export function maySpeak(role: Role): boolean {
  return role === 'moderator' || role === 'participant';
}

/** muc#roomconfig_allowpm: who may send private messages. */
export function maySendPrivate(role: Role, policy: PrivateMessagePolicy): boolean {
  switch (policy) {
    case 'anyone':
      return role !== 'none';
    case 'participants':
      return role === 'moderator' || role === 'participant';
    case 'moderators':
      return role === 'moderator';
    case 'none':
      return false;
  }
}

/** muc#roomconfig_whois: whether a viewer sees occupants' real JIDs (non-anonymous or moderator). */
export function seesRealJids(viewer: Role, config: RoomConfig): boolean {
  return config.whois === 'anyone' || viewer === 'moderator';
}

/** XEP-0045 §7.8.2: who may invite (admins and owners always; occupants when the room allows it; anyone in an open room). */
export function mayInvite(affiliation: Affiliation, config: RoomConfig): boolean {
  if (RANK[affiliation] >= RANK.admin) return true;
  if (config.allowInvites) return true;
  return !config.membersOnly;
}

/**
 * XEP-0045 §8.2–§8.6 and §9.6: whether a moderator may give an occupant a role. Kicking (none) or
 * revoking voice from an admin or owner is not allowed; granting or revoking moderator is for admins.
 */
export function mayChangeRole(actor: { role: Role; affiliation: Affiliation }, target: Affiliation, role: Role): boolean {
  if (actor.role !== 'moderator') return false;
  if (role === 'moderator' || RANK[target] >= RANK.admin) return RANK[actor.affiliation] >= RANK.admin && RANK[actor.affiliation] > RANK[target];
  return true;
}

/**
 * XEP-0045 §9 and §10: admins manage members and outcasts among those below them; owners manage
 * everyone, admins and owners included.
 */
export function mayChangeAffiliation(actor: Affiliation, current: Affiliation, next: Affiliation): boolean {
  if (actor === 'owner') return true;
  if (actor !== 'admin') return false;
  return RANK[current] < RANK.admin && RANK[next] < RANK.admin;
}

/** XEP-0045 §9.5 and §10.5: the lists an affiliation may read. */
export function mayReadAffiliations(actor: Affiliation): boolean {
  return RANK[actor] >= RANK.admin;
}

/** Whether an affiliation counts as membership (members-only rooms, member notices). */
export function isMember(affiliation: Affiliation): boolean {
  return RANK[affiliation] >= RANK.member;
}
