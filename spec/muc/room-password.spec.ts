import type { Element } from 'ltx';
import { StanzaError } from '../../src/base/stanza-error';
import { MucHarness, SERVICE } from './support/muc-harness';

const ROOM = `vault@${SERVICE}`;
const ALICE = 'alice@localhost/a';
const BOB = 'bob@localhost/b';
const CAROL = 'carol@localhost/c';
const OWNER = 'http://jabber.org/protocol/muc#owner';
const condition = (answer: Element | StanzaError | undefined) => (answer instanceof StanzaError ? answer.condition : answer?.attrs.type);
const withPassword = (password: string) => `<password>${password}</password>`;

/** alice creates the room and protects it with `secret`. */
async function protectedRoom(): Promise<MucHarness> {
  const h = new MucHarness();
  await h.create(ALICE, 'vault', 'al');
  const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field var='muc#roomconfig_roomsecret'><value>secret</value></field></x>`;
  const answer = await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'>${form}</query>`);
  if (condition(answer) !== 'result') throw new Error('could not protect the room');
  h.take();
  return h;
}

describe('password-protected rooms (XEP-0045 §7.2.6)', () => {
  it('§10.2: the form offers muc#roomconfig_passwordprotectedroom and muc#roomconfig_roomsecret (text-private) to owners', async () => {
    const h = await protectedRoom();
    const answer = (await h.iq(ALICE, ROOM, 'get', `<query xmlns='${OWNER}'/>`)) as Element;
    const fields = answer.getChild('query')?.getChild('x', 'jabber:x:data')?.getChildren('field') ?? [];
    const field = (name: string) => fields.find((f) => f.attrs.var === name);
    expect(field('muc#roomconfig_passwordprotectedroom')?.attrs.type).toBe('boolean');
    expect(field('muc#roomconfig_passwordprotectedroom')?.getChildText('value')).toBe('1');
    expect(field('muc#roomconfig_roomsecret')?.attrs.type).toBe('text-private');
    expect(field('muc#roomconfig_roomsecret')?.getChildText('value')).toBe('secret');
  });

  it('§7.2.6: entering without the password, or with a wrong one, is not-authorized (type auth); with it, the user enters', async () => {
    const h = await protectedRoom();
    const none = await h.join(BOB, 'vault', 'bo');
    expect(condition(none)).toBe('not-authorized');
    expect(none?.type).toBe('auth');
    expect(condition(await h.join(BOB, 'vault', 'bo', withPassword('Secret')))).toBe('not-authorized');
    expect(condition(await h.join(BOB, 'vault', 'bo', withPassword('')))).toBe('not-authorized');
    expect((await h.rooms.occupants('vault')).map((o) => o.nick)).toEqual(['al']);
    expect(await h.join(BOB, 'vault', 'bo', withPassword('secret'))).toBeUndefined();
    expect((await h.rooms.occupants('vault')).map((o) => o.nick)).toEqual(['al', 'bo']);
  });

  it('lets the room’s owners and admins in without the password; a ban still comes first', async () => {
    const h = await protectedRoom();
    await h.iq(
      ALICE,
      ROOM,
      'set',
      `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@localhost' affiliation='admin'/><item jid='carol@localhost' affiliation='outcast'/></query>`,
    );
    expect(await h.join(BOB, 'vault', 'bo')).toBeUndefined();
    expect(await h.join('alice@localhost/other', 'vault', 'al2')).toBeUndefined();
    expect(condition(await h.join(CAROL, 'vault', 'ca', withPassword('secret')))).toBe('forbidden');
  });

  it('§6.4: disco#info says muc_passwordprotected, and muc_unsecured once the protection is off', async () => {
    const h = await protectedRoom();
    const features = async () =>
      ((await h.iq(BOB, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`)) as Element)
        .getChild('query')
        ?.getChildren('feature')
        .map((f) => f.attrs.var);
    expect(await features()).toContain('muc_passwordprotected');
    expect(await features()).not.toContain('muc_unsecured');
    const off = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_passwordprotectedroom'><value>0</value></field></x>`;
    await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'>${off}</query>`);
    expect(await features()).toContain('muc_unsecured');
    expect(await h.join(BOB, 'vault', 'bo')).toBeUndefined();
  });

  it('refuses protection without a password (not-acceptable, nothing changed)', async () => {
    const h = new MucHarness();
    await h.create(ALICE, 'vault', 'al');
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field var='muc#roomconfig_roomname'><value>V</value></field></x>`;
    expect(condition(await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'>${form}</query>`))).toBe('not-acceptable');
    expect((await h.rooms.room('vault'))?.config).toMatchObject({ passwordProtected: false, name: '' });
  });

  it('§7.8.2: the room’s invitation to a password-protected room carries the password', async () => {
    const h = await protectedRoom();
    await h.send(ALICE, `<message to='${ROOM}'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@localhost'/></x></message>`);
    expect(h.to('carol@localhost')[0]?.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildText('password')).toBe('secret');
  });
});
