import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const ROOM = 'team@conference.localhost';
const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

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
    await enter(alice, ROOM, 'al');
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
    await enter(alice, 'quiet@conference.localhost', 'al');
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
