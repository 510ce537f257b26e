import { DEFAULT_ROOM_CONFIG } from '../../src/store/room-store';
import { defaultRole, entryRefusal, mayChangeAffiliation, mayChangeRole, maySendPrivate, maySetSubject } from '../../src/muc/permissions';

const moderated = { ...DEFAULT_ROOM_CONFIG, moderated: true };
const membersOnly = { ...DEFAULT_ROOM_CONFIG, membersOnly: true };

describe('roles and affiliations (XEP-0045 §5)', () => {
  it('gives owners and admins moderator, members participant, others participant or visitor in a moderated room', () => {
    expect(defaultRole('owner', DEFAULT_ROOM_CONFIG)).toBe('moderator');
    expect(defaultRole('admin', DEFAULT_ROOM_CONFIG)).toBe('moderator');
    expect(defaultRole('member', moderated)).toBe('participant');
    expect(defaultRole('none', DEFAULT_ROOM_CONFIG)).toBe('participant');
    expect(defaultRole('none', moderated)).toBe('visitor');
  });

  it('keeps outcasts out, and non-members out of a members-only room', () => {
    expect(entryRefusal('outcast', DEFAULT_ROOM_CONFIG)).toBe('forbidden');
    expect(entryRefusal('none', membersOnly)).toBe('registration-required');
    expect(entryRefusal('member', membersOnly)).toBeUndefined();
    expect(entryRefusal('none', DEFAULT_ROOM_CONFIG)).toBeUndefined();
  });

  it('§7.2.11: a locked room is item-not-found to all but owners; §7.2.6: a password-protected room wants its password, but of admins and owners', () => {
    const locked = { ...DEFAULT_ROOM_CONFIG, locked: true };
    expect(entryRefusal('owner', locked)).toBeUndefined();
    expect(entryRefusal('admin', locked)).toBe('item-not-found');
    expect(entryRefusal('outcast', locked)).toBe('item-not-found');
    const secret = { ...DEFAULT_ROOM_CONFIG, passwordProtected: true, password: 'pw' };
    expect(entryRefusal('none', secret)).toBe('not-authorized');
    expect(entryRefusal('member', secret, 'PW')).toBe('not-authorized');
    expect(entryRefusal('member', secret, 'pw')).toBeUndefined();
    expect(entryRefusal('admin', secret)).toBeUndefined();
    expect(entryRefusal('outcast', secret, 'pw')).toBe('forbidden');
    expect(entryRefusal('none', { ...secret, membersOnly: true }, 'pw')).toBe('registration-required');
  });

  it('lets moderators kick participants but not admins; only a higher admin or owner touches a moderator', () => {
    const moderator = { role: 'moderator' as const, affiliation: 'none' as const };
    const admin = { role: 'moderator' as const, affiliation: 'admin' as const };
    const owner = { role: 'moderator' as const, affiliation: 'owner' as const };
    expect(mayChangeRole(moderator, 'none', 'none')).toBe(true);
    expect(mayChangeRole(moderator, 'admin', 'none')).toBe(false);
    expect(mayChangeRole(moderator, 'none', 'moderator')).toBe(false);
    expect(mayChangeRole(admin, 'member', 'moderator')).toBe(true);
    expect(mayChangeRole(admin, 'admin', 'none')).toBe(false);
    expect(mayChangeRole(owner, 'admin', 'visitor')).toBe(true);
    expect(mayChangeRole({ role: 'participant', affiliation: 'member' }, 'none', 'none')).toBe(false);
  });

  it('lets admins manage members and outcasts below them, and owners everyone', () => {
    expect(mayChangeAffiliation('admin', 'none', 'member')).toBe(true);
    expect(mayChangeAffiliation('admin', 'member', 'outcast')).toBe(true);
    expect(mayChangeAffiliation('admin', 'admin', 'none')).toBe(false);
    expect(mayChangeAffiliation('admin', 'none', 'admin')).toBe(false);
    expect(mayChangeAffiliation('owner', 'admin', 'owner')).toBe(true);
    expect(mayChangeAffiliation('member', 'none', 'member')).toBe(false);
  });

  it('lets moderators set the subject, participants only when the room allows; private messages follow allowpm', () => {
    expect(maySetSubject('moderator', DEFAULT_ROOM_CONFIG)).toBe(true);
    expect(maySetSubject('participant', DEFAULT_ROOM_CONFIG)).toBe(false);
    expect(maySetSubject('participant', { ...DEFAULT_ROOM_CONFIG, changeSubject: true })).toBe(true);
    expect(maySetSubject('visitor', { ...DEFAULT_ROOM_CONFIG, changeSubject: true })).toBe(false);
    expect(maySendPrivate('visitor', 'anyone')).toBe(true);
    expect(maySendPrivate('visitor', 'participants')).toBe(false);
    expect(maySendPrivate('participant', 'moderators')).toBe(false);
    expect(maySendPrivate('moderator', 'none')).toBe(false);
  });
});
