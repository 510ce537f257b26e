import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const ROOM = 'team@conference.localhost';
const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const INSTANT_ROOM = `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>`;

let node: RunningNode;
const clients: BoshTestClient[] = [];

beforeAll(async () => {
  node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b,carol:c', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await node.close();
});

async function login(user: string, resource: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, user[0] as string, resource);
  clients.push(client);
  return client;
}

const selfPresence = (room: string) => (e: Element) =>
  e.name === 'presence' &&
  String(e.attrs.from).startsWith(`${room}/`) &&
  e
    .getChild('x', MUC_USER)
    ?.getChildren('status')
    .some((s) => s.attrs.code === '110') === true;
const subjectOf = (room: string) => (e: Element) =>
  e.name === 'message' && e.attrs.from !== undefined && String(e.attrs.from).startsWith(room) && e.getChild('subject') !== undefined;
const groupchat = (body: string) => (e: Element) => e.name === 'message' && e.attrs.type === 'groupchat' && e.getChildText('body') === body;

/** Enters a room (after initial presence, as clients do) and waits for the subject, the last stanza of an entry (XEP-0045 §7.2.15). */
async function enter(client: BoshTestClient, room: string, nick: string): Promise<void> {
  client.send(`<presence xmlns='jabber:client'/>`);
  client.send(`<presence to='${room}/${nick}' xmlns='jabber:client'><x xmlns='${MUC}'/></presence>`);
  await client.waitFor(selfPresence(room), 5000, `own presence in ${room}`);
  await client.waitFor(subjectOf(room), 5000, `subject of ${room}`);
}

/** Creates a room by entering it, then accepts its default configuration (XEP-0045 §10.1.2 instant room), which unlocks it. */
async function create(client: BoshTestClient, room: string, nick: string): Promise<void> {
  await enter(client, room, nick);
  const id = `instant-${room}`;
  const answer = await client.iq(`<iq type='set' id='${id}' to='${room}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, id);
  expect(answer.attrs.type).toBe('result');
}

describe('the MUC service on a node (conference.<domain>)', () => {
  it('is listed in the server’s disco#items', async () => {
    const alice = await login('alice', 'disco');
    const items = await alice.iq(
      `<iq type='get' id='items' to='localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`,
      'items',
    );
    expect(
      items
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toContain('conference.localhost');
    await alice.terminate();
  });

  it('lets two users enter a room, chat both ways with stanza-ids, and answers self-pings while joined', async () => {
    const alice = await login('alice', 'room');
    const bob = await login('bob', 'room');
    await create(alice, ROOM, 'al');
    await enter(bob, ROOM, 'bo');
    alice.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>hello bob</body></message>`);
    const atBob = await bob.waitFor(groupchat('hello bob'));
    expect(atBob.attrs.from).toBe(`${ROOM}/al`);
    expect(atBob.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(ROOM);
    bob.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>hello alice</body></message>`);
    await alice.waitFor(groupchat('hello alice'));
    const ping = await bob.iq(`<iq type='get' id='sp' to='${ROOM}/bo' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'sp');
    expect(ping.attrs.type).toBe('result');
    await bob.terminate();
    // The session ended: the room hears 'unavailable' (directed presence, RFC 6121 §4.6.3).
    await alice.waitFor((e) => e.name === 'presence' && e.attrs.from === `${ROOM}/bo` && e.attrs.type === 'unavailable');
    await alice.terminate();
  });
});

describe('a session that ends leaves its rooms', () => {
  it('even when it entered without initial presence (no directed presence is remembered then)', async () => {
    const alice = await login('alice', 'stay');
    const carol = await login('carol', 'bare');
    await create(alice, 'quiet@conference.localhost', 'al');
    // carol goes straight to the room, with no presence of her own first.
    carol.send(`<presence to='quiet@conference.localhost/ca' xmlns='jabber:client'><x xmlns='${MUC}'/></presence>`);
    await carol.waitFor(selfPresence('quiet@conference.localhost'), 5000, 'own presence in the room');
    await carol.terminate();
    const gone = await alice.waitFor((e) => e.name === 'presence' && e.attrs.from === 'quiet@conference.localhost/ca' && e.attrs.type === 'unavailable');
    expect(gone.attrs.to).toBe(alice.jid);
    expect((await node.stores.rooms.occupants('quiet')).map((o) => o.nick)).toEqual(['al']);
    await alice.terminate();
  });
});

describe('groups: a members-only persistent room', () => {
  it('tells an online member outside the room of each message, and an offline member catches up after its last sequence number', async () => {
    const GROUP = 'crew@conference.localhost';
    const alice = await login('alice', 'group');
    await enter(alice, GROUP, 'al');
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'><value>1</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x>`;
    const configured = await alice.iq(
      `<iq type='set' id='cfg' to='${GROUP}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query></iq>`,
      'cfg',
    );
    expect(configured.attrs.type).toBe('result');
    for (const member of ['bob@localhost', 'carol@localhost']) {
      const id = `m-${member}`;
      const added = await alice.iq(
        `<iq type='set' id='${id}' to='${GROUP}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='${member}' affiliation='member'/></query></iq>`,
        id,
      );
      expect(added.attrs.type).toBe('result');
    }
    // bob is online but not in the room; carol is offline.
    const bob = await login('bob', 'group');
    bob.send(`<presence xmlns='jabber:client'/>`);
    await bob.iq(`<iq type='get' id='after-presence' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after-presence');
    alice.send(`<message to='${GROUP}' type='groupchat' xmlns='jabber:client'><body>first</body></message>`);
    const first = await alice.waitFor(groupchat('first'));
    const firstId = first.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
    const notice = await bob.waitFor((e) => e.name === 'message' && e.getChild('notice', 'urn:bosh-gateway:muc-notice:0') !== undefined);
    expect(notice.attrs.from).toBe(GROUP);
    expect(notice.getChild('notice')?.attrs).toMatchObject({ seq: '1', id: firstId, from: `${GROUP}/al` });
    for (const text of ['second', 'third']) {
      alice.send(`<message to='${GROUP}' type='groupchat' xmlns='jabber:client'><body>${text}</body></message>`);
      await alice.waitFor(groupchat(text));
    }
    // carol saw 'first' (sequence number 1) and asks for everything after it.
    const carol = await login('carol', 'group');
    carol.send(
      `<iq type='set' id='mam' to='${GROUP}' xmlns='jabber:client'><query xmlns='urn:xmpp:mam:2' queryid='catch-up'><x xmlns='jabber:x:data' type='submit'><field var='after-id'><value>${firstId}</value></field></x></query></iq>`,
    );
    const fin = await carol.waitFor((e) => e.name === 'iq' && e.attrs.id === 'mam');
    expect(fin.getChild('fin', 'urn:xmpp:mam:2')?.attrs.complete).toBe('true');
    const results = carol.inbox.filter((e) => e.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === 'catch-up');
    const texts = results.map((r) => r.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'));
    expect(texts).toEqual(['second', 'third']);
    for (const client of [alice, bob, carol]) await client.terminate();
  });
});

const presenceError = (room: string) => (e: Element) => e.name === 'presence' && e.attrs.type === 'error' && String(e.attrs.from).startsWith(`${room}/`);
const conditionOf = (e: Element) => e.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name;

describe('XEP-0045 features over BOSH: locked rooms, passwords, voice requests, iqs between occupants', () => {
  it('§10.1.1, §7.2.11: a new room refuses others with item-not-found until its owner accepts the instant room (§10.1.2)', async () => {
    const LOCKED = 'locked@conference.localhost';
    const alice = await login('alice', 'locker');
    const bob = await login('bob', 'locker');
    await enter(alice, LOCKED, 'al');
    expect(
      alice.inbox.some(
        (e) =>
          selfPresence(LOCKED)(e) &&
          e
            .getChild('x', MUC_USER)
            ?.getChildren('status')
            .some((s) => s.attrs.code === '201'),
      ),
    ).toBe(true);
    bob.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence to='${LOCKED}/bo' xmlns='jabber:client'><x xmlns='${MUC}'/></presence>`);
    expect(conditionOf(await bob.waitFor(presenceError(LOCKED), 5000, 'a presence error'))).toBe('item-not-found');
    const answer = await alice.iq(`<iq type='set' id='instant' to='${LOCKED}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
    expect(answer.attrs.type).toBe('result');
    await enter(bob, LOCKED, 'bo');
    for (const client of [alice, bob]) await client.terminate();
  });

  it('§7.2.6: a password-protected room answers not-authorized without the password, and lets in who gives it', async () => {
    const VAULT = 'vault@conference.localhost';
    const alice = await login('alice', 'vault');
    const bob = await login('bob', 'vault');
    await enter(alice, VAULT, 'al');
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field var='muc#roomconfig_roomsecret'><value>open sesame</value></field></x>`;
    const configured = await alice.iq(
      `<iq type='set' id='pw' to='${VAULT}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query></iq>`,
      'pw',
    );
    expect(configured.attrs.type).toBe('result');
    bob.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence to='${VAULT}/bo' xmlns='jabber:client'><x xmlns='${MUC}'/></presence>`);
    const refused = await bob.waitFor(presenceError(VAULT), 5000, 'a presence error');
    expect(conditionOf(refused)).toBe('not-authorized');
    expect(refused.getChild('error')?.attrs.type).toBe('auth');
    bob.send(`<presence to='${VAULT}/bo' xmlns='jabber:client'><x xmlns='${MUC}'><password>open sesame</password></x></presence>`);
    await bob.waitFor(selfPresence(VAULT), 5000, 'own presence in the room');
    for (const client of [alice, bob]) await client.terminate();
  });

  it('§7.13, §8.6: a visitor’s voice request reaches the moderator, whose approval lets the visitor speak', async () => {
    const STAGE = 'stage@conference.localhost';
    const alice = await login('alice', 'stage');
    const bob = await login('bob', 'stage');
    await enter(alice, STAGE, 'al');
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_moderatedroom'><value>1</value></field></x>`;
    await alice.iq(
      `<iq type='set' id='mod' to='${STAGE}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query></iq>`,
      'mod',
    );
    await enter(bob, STAGE, 'bo');
    bob.send(
      `<message to='${STAGE}' xmlns='jabber:client'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`,
    );
    const request = await alice.waitFor((e) => e.name === 'message' && e.getChild('x', 'jabber:x:data') !== undefined, 5000, 'the voice request');
    expect(request.attrs.from).toBe(STAGE);
    // alice's client fills in the form it got and sends it back (§8.6).
    const approval = request.getChild('x', 'jabber:x:data') as Element;
    approval.attrs.type = 'submit';
    approval.getChildren('field').forEach((f) => {
      if (f.attrs.var === 'muc#request_allow') {
        f.children = [];
        f.c('value').t('true');
      }
    });
    alice.send(`<message to='${STAGE}' xmlns='jabber:client'>${approval.toString()}</message>`);
    const voiced = await bob.waitFor(
      (e) => e.name === 'presence' && e.attrs.from === `${STAGE}/bo` && e.getChild('x', MUC_USER)?.getChild('item')?.attrs.role === 'participant',
      5000,
      'voice',
    );
    expect(voiced.getChild('x', MUC_USER)?.getChild('item')?.getChild('actor')?.attrs.nick).toBe('al');
    bob.send(`<message to='${STAGE}' type='groupchat' xmlns='jabber:client'><body>I may speak</body></message>`);
    await alice.waitFor(groupchat('I may speak'));
    for (const client of [alice, bob]) await client.terminate();
  });

  it('relays an iq to an occupant JID to the occupant and its answer back, neither side learning the other’s real JID', async () => {
    const LOUNGE = 'lounge@conference.localhost';
    const alice = await login('alice', 'lounge');
    const bob = await login('bob', 'lounge');
    await create(alice, LOUNGE, 'al');
    await enter(bob, LOUNGE, 'bo');
    bob.send(`<iq type='get' id='ver' to='${LOUNGE}/al' xmlns='jabber:client'><query xmlns='jabber:iq:version'/></iq>`);
    const relayed = await alice.waitFor((e) => e.name === 'iq' && e.attrs.type === 'get' && e.getChild('query', 'jabber:iq:version') !== undefined);
    expect(relayed.attrs.from).toBe(`${LOUNGE}/bo`);
    alice.send(
      `<iq type='result' id='${String(relayed.attrs.id)}' to='${LOUNGE}/bo' xmlns='jabber:client'><query xmlns='jabber:iq:version'><name>alice-client</name></query></iq>`,
    );
    const answer = await bob.waitFor((e) => e.name === 'iq' && e.attrs.id === 'ver');
    expect(answer.attrs).toMatchObject({ type: 'result', from: `${LOUNGE}/al` });
    expect(answer.getChild('query')?.getChildText('name')).toBe('alice-client');
    const missing = await bob.iq(`<iq type='get' id='nobody' to='${LOUNGE}/nobody' xmlns='jabber:client'><query xmlns='jabber:iq:version'/></iq>`, 'nobody');
    expect(conditionOf(missing)).toBe('item-not-found');
    for (const client of [alice, bob]) await client.terminate();
  });

  it('answers a vCard request to an occupant JID with the occupant’s stored vCard, from the occupant JID (XEP-0045 IQ business rules)', async () => {
    const LOUNGE = 'cards@conference.localhost';
    const alice = await login('alice', 'cards');
    const bob = await login('bob', 'cards');
    const stored = await alice.iq(`<iq type='set' id='vc' xmlns='jabber:client'><vCard xmlns='vcard-temp'><FN>Alice A.</FN></vCard></iq>`, 'vc');
    expect(stored.attrs.type).toBe('result');
    await create(alice, LOUNGE, 'al');
    await enter(bob, LOUNGE, 'bo');
    const card = await bob.iq(`<iq type='get' id='card' to='${LOUNGE}/al' xmlns='jabber:client'><vCard xmlns='vcard-temp'/></iq>`, 'card');
    expect(card.attrs).toMatchObject({ type: 'result', from: `${LOUNGE}/al` });
    expect(card.getChild('vCard', 'vcard-temp')?.getChildText('FN')).toBe('Alice A.');
    for (const client of [alice, bob]) await client.terminate();
  });

  it('with MUC_LOCK_NEW_ROOMS=false a new room is open to others at once (still 201 for its creator)', async () => {
    const open = await startNode(
      loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', MUC_LOCK_NEW_ROOMS: 'false' }),
    );
    try {
      const alice = await BoshTestClient.login(open.boshUrl, 'alice', 'a', 'open');
      const bob = await BoshTestClient.login(open.boshUrl, 'bob', 'b', 'open');
      clients.push(alice, bob);
      await enter(alice, 'open@conference.localhost', 'al');
      await enter(bob, 'open@conference.localhost', 'bo');
      expect((await open.stores.rooms.room('open'))?.config.locked).toBe(false);
      for (const client of [alice, bob]) await client.terminate();
    } finally {
      await open.close();
    }
  });
});

describe('XEP-0045 status 333: an occupant whose session is gone is removed when a message to it bounces', () => {
  it('§7.2.x, RFC 6120 §8.3: the room hears the bounce of a groupchat to an occupant that vanished from routing, removes it with 333 and tells the others', async () => {
    const ATTIC = 'attic@conference.localhost';
    const alice = await login('alice', 'attic');
    const bob = await login('bob', 'attic');
    await create(alice, ATTIC, 'al');
    await enter(bob, ATTIC, 'bo');
    // bob's session leaves routing abruptly: no unavailable presence, no session end the room could hear of.
    const router = node.xmpp.services.router;
    const session = router.find('bob@localhost', 'attic');
    expect(session).toBeDefined();
    if (session) router.unbind(session);
    alice.send(`<message to='${ATTIC}' type='groupchat' xmlns='jabber:client'><body>anyone there?</body></message>`);
    await alice.waitFor(groupchat('anyone there?'));
    const gone = await alice.waitFor(
      (e) => e.name === 'presence' && e.attrs.from === `${ATTIC}/bo` && e.attrs.type === 'unavailable',
      5000,
      'the ghost’s unavailable presence',
    );
    const codes = gone
      .getChild('x', MUC_USER)
      ?.getChildren('status')
      .map((s) => s.attrs.code);
    expect(codes).toContain('333');
    expect((await node.stores.rooms.occupants('attic')).map((o) => o.nick)).toEqual(['al']);
    // The next message goes to alice alone and nothing else is removed or bounced back to her.
    alice.send(`<message to='${ATTIC}' type='groupchat' xmlns='jabber:client'><body>just me</body></message>`);
    await alice.waitFor(groupchat('just me'));
    expect(alice.inbox.filter((e) => e.attrs.type === 'error')).toEqual([]);
    for (const client of [alice, bob]) await client.terminate();
  });
});
