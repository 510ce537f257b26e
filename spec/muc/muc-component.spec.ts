import type { Element } from 'ltx';
import { StanzaError } from '../../src/base/stanza-error';
import { itemOf, MucHarness, SERVICE, statusCodes } from './support/muc-harness';

const ROOM = `lobby@${SERVICE}`;
const ALICE = 'alice@localhost/a';
const BOB = 'bob@localhost/b';
const CAROL = 'carol@localhost/c';
const bodies = (stanzas: Element[]) => stanzas.filter((s) => s.name === 'message' && s.getChild('body')).map((s) => s.getChildText('body'));
const condition = (answer: Element | StanzaError | undefined) => (answer instanceof StanzaError ? answer.condition : answer?.attrs.type);

async function roomWithAliceAndBob(h = new MucHarness()): Promise<MucHarness> {
  await h.create(ALICE, 'lobby', 'al');
  await h.join(BOB, 'lobby', 'bo');
  h.take();
  return h;
}

describe('entering a room', () => {
  it('creates the room on first entry with its creator as owner and moderator, 201 and 110, and the subject last', async () => {
    const h = new MucHarness();
    expect(await h.join(ALICE, 'lobby', 'al')).toBeUndefined();
    const [presence, subject] = h.take();
    expect(presence?.attrs.from).toBe(`${ROOM}/al`);
    expect(itemOf(presence as Element)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator', jid: ALICE });
    expect(statusCodes(presence as Element)).toEqual(expect.arrayContaining(['110', '201']));
    expect(subject?.getChild('subject')?.getText()).toBe('');
    expect(await h.rooms.affiliation('lobby', 'alice@localhost')).toBe('owner');
  });

  it('shows the newcomer everyone present before itself, and everyone the newcomer, without real JIDs to non-moderators', async () => {
    const h = new MucHarness();
    await h.create(ALICE, 'lobby', 'al');
    h.take();
    await h.join(BOB, 'lobby', 'bo');
    const toBob = h.to(BOB);
    expect(toBob.map((s) => s.attrs.from)).toEqual([`${ROOM}/al`, `${ROOM}/bo`, ROOM]);
    expect(itemOf(toBob[0] as Element)?.attrs.jid).toBeUndefined();
    expect(itemOf(toBob[1] as Element)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant', jid: BOB });
    const toAlice = h.to(ALICE);
    expect(toAlice).toHaveLength(1);
    expect(itemOf(toAlice[0] as Element)?.attrs.jid).toBe(BOB);
  });

  it('refuses a nick another occupant holds with conflict', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.join(CAROL, 'lobby', 'al'))).toBe('conflict');
    expect((await h.rooms.occupants('lobby')).map((o) => o.nick)).toEqual(['al', 'bo']);
  });

  it('changes an occupant’s nick with 303 from the old nick, then presence from the new one', async () => {
    const h = await roomWithAliceAndBob();
    await h.join(BOB, 'lobby', 'bobby');
    const toAlice = h.to(ALICE);
    expect(toAlice[0]?.attrs).toMatchObject({ from: `${ROOM}/bo`, type: 'unavailable' });
    expect(statusCodes(toAlice[0] as Element)).toEqual(['303']);
    expect(itemOf(toAlice[0] as Element)?.attrs.nick).toBe('bobby');
    expect(toAlice[1]?.attrs.from).toBe(`${ROOM}/bobby`);
  });
});

describe('bounds', () => {
  it('refuses a newcomer to a full room with service-unavailable, and a session in too many rooms with resource-constraint', async () => {
    const h = new MucHarness({ limits: { maxOccupants: 2, maxRoomsPerSession: 2 } });
    await h.create(ALICE, 'lobby', 'al');
    await h.join(BOB, 'lobby', 'bo');
    expect(condition(await h.join(CAROL, 'lobby', 'ca'))).toBe('service-unavailable');
    await h.join(ALICE, 'second', 'al');
    expect(condition(await h.join(ALICE, 'third', 'al'))).toBe('resource-constraint');
    expect(await h.rooms.room('third')).toBeUndefined();
    // A presence update in a room one is in is no new entry.
    expect(await h.send(ALICE, `<presence to='${ROOM}/al'><show>away</show></presence>`)).toBeUndefined();
  });
});

describe('leaving a room', () => {
  it('tells everyone, the leaver with 110, and removes a temporary room and its history with its last occupant', async () => {
    const h = await roomWithAliceAndBob();
    await h.send(BOB, `<presence to='${ROOM}/bo' type='unavailable'/>`);
    expect(h.to(ALICE)[0]?.attrs).toMatchObject({ from: `${ROOM}/bo`, type: 'unavailable' });
    expect(statusCodes(h.to(BOB)[0] as Element)).toEqual(['110']);
    await h.say(ALICE, 'lobby', 'before it went');
    await h.send(ALICE, `<presence to='${ROOM}/al' type='unavailable'/>`);
    expect(await h.rooms.room('lobby')).toBeUndefined();
    // A new room of the same name starts without the old one's history.
    h.take();
    await h.join(CAROL, 'lobby', 'ca');
    expect(bodies(h.to(CAROL))).toEqual([]);
  });
});

describe('messages to the room', () => {
  it('reaches every occupant from the sender’s occupant JID with the room’s stanza-id, in the order sent', async () => {
    const h = await roomWithAliceAndBob();
    await h.say(ALICE, 'lobby', 'one');
    await h.say(BOB, 'lobby', 'two');
    for (const jid of [ALICE, BOB]) {
      const got = h.to(jid);
      expect(bodies(got)).toEqual(['one', 'two']);
      expect(got.map((m) => m.attrs.from)).toEqual([`${ROOM}/al`, `${ROOM}/bo`]);
      expect(got.map((m) => m.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by)).toEqual([ROOM, ROOM]);
      expect(got.map((m) => m.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id)).toEqual([expect.stringMatching(/-1$/), expect.stringMatching(/-2$/)]);
    }
  });

  it('refuses a message from someone not in the room, and drops a forged stanza-id of the room', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.say(CAROL, 'lobby', 'hi'))).toBe('not-acceptable');
    await h.send(ALICE, `<message to='${ROOM}' type='groupchat'><body>x</body><stanza-id xmlns='urn:xmpp:sid:0' by='${ROOM}' id='forged'/></message>`);
    expect(
      h
        .to(BOB)[0]
        ?.getChildren('stanza-id')
        .map((s) => s.attrs.id),
    ).not.toContain('forged');
  });

  it('sends a newcomer the discussion history with delay stamps, as much as <history/> asks', async () => {
    const h = await roomWithAliceAndBob();
    for (const text of ['one', 'two', 'three']) await h.say(ALICE, 'lobby', text);
    h.take();
    await h.join(CAROL, 'lobby', 'ca');
    const history = h.to(CAROL).filter((s) => s.getChild('body'));
    expect(bodies(history)).toEqual(['one', 'two', 'three']);
    expect(history[0]?.getChild('delay', 'urn:xmpp:delay')?.attrs.from).toBe(ROOM);
    expect(h.to(CAROL).at(-1)?.getChild('subject')).toBeDefined();
    await h.send(CAROL, `<presence to='${ROOM}/ca' type='unavailable'/>`);
    h.take();
    await h.join(CAROL, 'lobby', 'ca', `<history maxstanzas='1'/>`);
    expect(bodies(h.to(CAROL))).toEqual(['three']);
    h.take();
    await h.send(CAROL, `<presence to='${ROOM}/ca' type='unavailable'/>`);
    h.clock += 60_000;
    await h.say(ALICE, 'lobby', 'four');
    h.take();
    await h.join(CAROL, 'lobby', 'ca', `<history seconds='30'/>`);
    expect(bodies(h.to(CAROL))).toEqual(['four']);
  });
});

describe('the subject', () => {
  it('is set by moderators, refused to participants by default, and shown to newcomers', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.send(BOB, `<message to='${ROOM}' type='groupchat'><subject>mine</subject></message>`))).toBe('forbidden');
    await h.send(ALICE, `<message to='${ROOM}' type='groupchat'><subject>Plans</subject></message>`);
    expect(h.to(BOB)[0]?.getChildText('subject')).toBe('Plans');
    h.take();
    await h.join(CAROL, 'lobby', 'ca');
    const last = h.to(CAROL).at(-1);
    expect(last?.attrs.from).toBe(`${ROOM}/al`);
    expect(last?.getChildText('subject')).toBe('Plans');
  });
});

describe('private messages', () => {
  it('go to one occupant from the sender’s occupant JID, marked muc#user, and can be turned off', async () => {
    const h = await roomWithAliceAndBob();
    await h.send(ALICE, `<message to='${ROOM}/bo' type='chat'><body>psst</body></message>`);
    const [pm] = h.to(BOB);
    expect(pm?.attrs).toMatchObject({ from: `${ROOM}/al`, type: 'chat' });
    expect(pm?.getChild('x', 'http://jabber.org/protocol/muc#user')).toBeDefined();
    expect(h.to(ALICE)).toEqual([]);
    expect(condition(await h.send(ALICE, `<message to='${ROOM}/nobody' type='chat'><body>?</body></message>`))).toBe('item-not-found');
    await h.rooms.saveConfig('lobby', { ...(await h.rooms.room('lobby'))!.config, allowPm: 'none' });
    expect(condition(await h.send(ALICE, `<message to='${ROOM}/bo' type='chat'><body>psst</body></message>`))).toBe('forbidden');
  });
});

describe('kicking and banning', () => {
  it('kicks with role none: 307 to everyone, the kicked occupant included', async () => {
    const h = await roomWithAliceAndBob();
    const answer = await h.iq(
      ALICE,
      ROOM,
      'set',
      `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='bo' role='none'><reason>spam</reason></item></query>`,
    );
    expect(condition(answer)).toBe('result');
    const toBob = h.to(BOB)[0] as Element;
    expect(toBob.attrs.type).toBe('unavailable');
    expect(statusCodes(toBob)).toEqual(['110', '307']);
    expect(itemOf(toBob)?.getChildText('reason')).toBe('spam');
    expect(statusCodes(h.to(ALICE)[0] as Element)).toEqual(['307']);
    expect((await h.rooms.occupants('lobby')).map((o) => o.nick)).toEqual(['al']);
  });

  it('bans with affiliation outcast (301) and refuses the banned user’s next entry; a participant may not kick', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.iq(BOB, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='al' role='none'/></query>`))).toBe(
      'not-allowed',
    );
    await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@localhost' affiliation='outcast'/></query>`);
    expect(statusCodes(h.to(BOB)[0] as Element)).toEqual(['110', '301']);
    expect(condition(await h.join(BOB, 'lobby', 'bo'))).toBe('forbidden');
    const list = await h.iq(ALICE, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query>`);
    expect(
      (list as Element)
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['bob@localhost']);
  });

  it('keeps the room’s last owner', async () => {
    const h = await roomWithAliceAndBob();
    expect(
      condition(
        await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='alice@localhost' affiliation='member'/></query>`),
      ),
    ).toBe('conflict');
  });
});

describe('configuration', () => {
  it('gives owners the form with every option, and refuses it to others', async () => {
    const h = await roomWithAliceAndBob();
    const answer = (await h.iq(ALICE, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/muc#owner'/>`)) as Element;
    const vars = answer
      .getChild('query')
      ?.getChild('x', 'jabber:x:data')
      ?.getChildren('field')
      .map((f) => f.attrs.var);
    expect(vars).toEqual(
      expect.arrayContaining([
        'muc#roomconfig_roomname',
        'muc#roomconfig_roomdesc',
        'muc#roomconfig_persistentroom',
        'muc#roomconfig_membersonly',
        'muc#roomconfig_moderatedroom',
        'muc#roomconfig_publicroom',
        'muc#roomconfig_changesubject',
        'muc#roomconfig_whois',
        'muc#roomconfig_historylength',
        'muc#roomconfig_allowpm',
        'muc#roomconfig_passwordprotectedroom',
        'muc#roomconfig_roomsecret',
        'x-gateway#membernotices',
      ]),
    );
    expect(condition(await h.iq(BOB, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/muc#owner'/>`))).toBe('forbidden');
  });

  it('applies a submitted form: a members-only room removes non-members (322) and admits only members', async () => {
    const h = await roomWithAliceAndBob();
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
      <field var='muc#roomconfig_membersonly'><value>1</value></field><field var='muc#roomconfig_persistentroom'><value>true</value></field>
      <field var='muc#roomconfig_roomname'><value>Team</value></field></x>`;
    expect(condition(await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query>`))).toBe('result');
    expect(await h.rooms.room('lobby')).toMatchObject({ config: { membersOnly: true, persistent: true, name: 'Team' } });
    expect(statusCodes(h.to(BOB)[0] as Element)).toEqual(['110', '322']);
    expect(condition(await h.join(CAROL, 'lobby', 'ca'))).toBe('registration-required');
    await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='carol@localhost' affiliation='member'/></query>`);
    expect(await h.join(CAROL, 'lobby', 'ca')).toBeUndefined();
  });

  it('refuses a value outside a field’s options and changes nothing', async () => {
    const h = await roomWithAliceAndBob();
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_roomname'><value>X</value></field><field var='muc#roomconfig_whois'><value>everyone</value></field></x>`;
    expect(condition(await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query>`))).toBe('not-acceptable');
    expect((await h.rooms.room('lobby'))?.config.name).toBe('');
  });
});

describe('invitations', () => {
  it('go from the room to the invitee; an owner’s invitation to a members-only room makes a member', async () => {
    const h = await roomWithAliceAndBob();
    await h.rooms.saveConfig('lobby', { ...(await h.rooms.room('lobby'))!.config, membersOnly: true });
    await h.send(
      ALICE,
      `<message to='${ROOM}'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='carol@localhost'><reason>join us</reason></invite></x></message>`,
    );
    const [invitation] = h.to('carol@localhost');
    expect(invitation?.attrs.from).toBe(ROOM);
    const invite = invitation?.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite');
    expect(invite?.attrs.from).toBe(ALICE);
    expect(invite?.getChildText('reason')).toBe('join us');
    expect(await h.rooms.affiliation('lobby', 'carol@localhost')).toBe('member');
    expect(
      condition(await h.send(BOB, `<message to='${ROOM}'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='dave@localhost'/></x></message>`)),
    ).toBe('forbidden');
  });
});

describe('groups: members outside the room', () => {
  it('hear of each message with a notice carrying the sequence number, and with the message when configured', async () => {
    const h = await roomWithAliceAndBob();
    await h.rooms.setAffiliation('lobby', 'carol@localhost', 'member');
    await h.rooms.setAffiliation('lobby', 'bob@localhost', 'member');
    await h.say(ALICE, 'lobby', 'one');
    const notices = h.to('carol@localhost');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.attrs).toMatchObject({ type: 'headline', from: ROOM });
    expect(notices[0]?.getChild('notice', 'urn:bosh-gateway:muc-notice:0')?.attrs).toMatchObject({ seq: '1', from: `${ROOM}/al`, jid: 'alice@localhost' });
    expect(h.to('bob@localhost')).toEqual([]);
    h.take();
    await h.rooms.saveConfig('lobby', { ...(await h.rooms.room('lobby'))!.config, memberNotices: 'message' });
    await h.say(ALICE, 'lobby', 'two');
    const forwarded = h.to('carol@localhost')[0]?.getChild('notice')?.getChild('forwarded')?.getChild('message');
    expect(forwarded?.getChildText('body')).toBe('two');
  });
});

describe('discovery', () => {
  it('describes the service and lists its public rooms', async () => {
    const h = await roomWithAliceAndBob();
    const info = (await h.iq(ALICE, SERVICE, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`)) as Element;
    expect(info.getChild('query')?.getChild('identity')?.attrs).toMatchObject({ category: 'conference', type: 'text' });
    expect(
      info
        .getChild('query')
        ?.getChildren('feature')
        .map((f) => f.attrs.var),
    ).toContain('http://jabber.org/protocol/muc');
    const items = (await h.iq(ALICE, SERVICE, 'get', `<query xmlns='http://jabber.org/protocol/disco#items'/>`)) as Element;
    expect(
      items
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual([ROOM]);
  });

  it('gives a room’s features from its configuration', async () => {
    const h = await roomWithAliceAndBob();
    const info = (await h.iq(BOB, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`)) as Element;
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['muc_temporary', 'muc_open', 'muc_unmoderated', 'muc_public', 'muc_semianonymous', 'urn:xmpp:mam:2']));
  });
});

describe('self-ping (XEP-0410)', () => {
  it('answers an occupant pinging its own occupant JID, and not-acceptable to anyone else', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.iq(BOB, `${ROOM}/bo`, 'get', `<ping xmlns='urn:xmpp:ping'/>`))).toBe('result');
    expect(condition(await h.iq(CAROL, `${ROOM}/bo`, 'get', `<ping xmlns='urn:xmpp:ping'/>`))).toBe('not-acceptable');
    await h.send(BOB, `<presence to='${ROOM}/bo' type='unavailable'/>`);
    expect(condition(await h.iq(BOB, `${ROOM}/bo`, 'get', `<ping xmlns='urn:xmpp:ping'/>`))).toBe('not-acceptable');
  });
});

describe('the room’s archive (XEP-0313)', () => {
  it('returns the room’s messages in order, then fin complete; after an id, only what came later', async () => {
    const h = await roomWithAliceAndBob();
    for (const text of ['one', 'two', 'three']) await h.say(ALICE, 'lobby', text);
    h.take();
    await h.iq(BOB, ROOM, 'set', `<query xmlns='urn:xmpp:mam:2' queryid='q1'/>`);
    const got = h.take();
    const results = got.filter((s) => s.name === 'message');
    expect(results.map((m) => m.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'))).toEqual(['one', 'two', 'three']);
    expect(results[0]?.getChild('result')?.attrs.queryid).toBe('q1');
    const fin = got.at(-1)?.getChild('fin', 'urn:xmpp:mam:2');
    expect(fin?.attrs.complete).toBe('true');
    const first = fin?.getChild('set')?.getChildText('first');
    await h.iq(
      BOB,
      ROOM,
      'set',
      `<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='after-id'><value>${first}</value></field></x></query>`,
    );
    expect(
      h
        .take()
        .filter((s) => s.name === 'message')
        .map((m) => m.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body')),
    ).toEqual(['two', 'three']);
  });
});
