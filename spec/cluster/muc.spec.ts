import type { Element } from 'ltx';
import Redis from 'ioredis';
import { startNode, type RunningNode } from '../../src/app';
import { BoshTestClient } from '../support/bosh-client';
import { clusterNodeConfig } from '../support/cluster-config';
import { TestRedis } from '../support/redis-server';
import { parseStrictXml } from '../../src/xml';

const ROOM = 'ops@conference.localhost';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const ROUNDS = 10;
const MUC = 'http://jabber.org/protocol/muc';
const INSTANT_ROOM = `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>`;

let redis: TestRedis;
const nodes: RunningNode[] = [];
const clients: BoshTestClient[] = [];

function nodeConfig(id: string) {
  return clusterNodeConfig(redis.url, id, { USERS: 'alice:a,bob:b,carol:c,dave:d' });
}

beforeAll(async () => {
  redis = await TestRedis.start();
  for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(nodeConfig(id)));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  for (const node of nodes) await node.close();
  await redis.stop();
});

async function login(node: RunningNode, user: string, resource = node === nodes[0] ? 'n1' : node === nodes[1] ? 'n2' : 'n3'): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, user[0] as string, resource);
  clients.push(client);
  return client;
}

const isSelf = (e: Element) =>
  e.name === 'presence' &&
  e
    .getChild('x', MUC_USER)
    ?.getChildren('status')
    .some((s) => s.attrs.code === '110') === true;
const roomMessages = (client: BoshTestClient) =>
  client.inbox.filter((e) => e.name === 'message' && e.attrs.type === 'groupchat' && e.getChild('body') !== undefined);
const seqOf = (message: Element) => Number(/-(\d+)$/.exec(String(message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id))?.[1]);

/** XEP-0045 status 333: the room tells the remaining occupant that the ghost left, and keeps only her. */
async function expectGhostRemoved(alice: BoshTestClient, node: RunningNode, room: string, nick: string): Promise<void> {
  const gone = await alice.waitFor(
    (e) => e.name === 'presence' && e.attrs.from === `${room}/${nick}` && e.attrs.type === 'unavailable',
    5000,
    'the ghost’s unavailable presence',
  );
  expect(
    gone
      .getChild('x', MUC_USER)
      ?.getChildren('status')
      .map((s) => s.attrs.code),
  ).toContain('333');
  expect((await node.stores.rooms.occupants(room.split('@')[0] ?? '')).map((o) => o.nick)).toEqual(['al']);
}

describe('cluster: a room with occupants on three nodes', () => {
  it('gives every occupant the same messages in the same order, numbered without gaps, and MAM returns them so', async () => {
    const people = [await login(nodes[0] as RunningNode, 'alice'), await login(nodes[1] as RunningNode, 'bob'), await login(nodes[2] as RunningNode, 'carol')];
    // One after the other, so the first is the owner; each waits for its own presence in the room.
    for (const [i, client] of people.entries()) {
      client.send(`<presence xmlns='jabber:client'/>`);
      client.send(`<presence to='${ROOM}/p${i}' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
      await client.waitFor(isSelf, 5000, 'own presence in the room');
      // XEP-0045 §10.1.2: the owner accepts the instant room, which unlocks it for the others.
      if (i === 0) await client.iq(`<iq type='set' id='instant' to='${ROOM}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
    }
    // Everyone at once, from three nodes: the room puts them in one order.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, client] of people.entries())
        client.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>p${i}-${round}</body></message>`);
    }
    const total = ROUNDS * people.length;
    for (const client of people) {
      await client.waitFor(() => roomMessages(client).length >= total, 10_000, `${total} room messages`);
    }
    const orders = people.map((client) => roomMessages(client).map((m) => m.getChildText('body')));
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(roomMessages(people[0] as BoshTestClient).map(seqOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each sender's own messages keep the order it sent them in.
    for (let i = 0; i < people.length; i++) {
      expect((orders[0] ?? []).filter((b) => b?.startsWith(`p${i}-`))).toEqual(Array.from({ length: ROUNDS }, (_, r) => `p${i}-${r}`));
    }

    const asker = people[1] as BoshTestClient;
    asker.send(
      `<iq type='set' id='mam' to='${ROOM}' xmlns='jabber:client'><query xmlns='urn:xmpp:mam:2' queryid='all'><set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set></query></iq>`,
    );
    const fin = await asker.waitFor((e) => e.name === 'iq' && e.attrs.id === 'mam');
    expect(fin.getChild('fin', 'urn:xmpp:mam:2')?.attrs.complete).toBe('true');
    const archived = asker.inbox
      .filter((e) => e.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === 'all')
      .map((e) => e.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'));
    expect(archived).toEqual(orders[0]);
    for (const client of people) await client.terminate();
  });

  it('XEP-0045 §7.4: several occupants on each node (one bus message per node) get every message in the same order; an occupant whose session is gone does not hold the others up', async () => {
    const HALL = 'lobby@conference.localhost';
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const people = [
      await login(n1, 'alice', 'h1'),
      await login(n1, 'alice', 'h2'),
      await login(n2, 'bob', 'h1'),
      await login(n2, 'bob', 'h2'),
      await login(n3, 'carol', 'h1'),
      await login(n3, 'dave', 'h1'),
    ];
    for (const [i, client] of people.entries()) {
      client.send(`<presence to='${HALL}/h${i}' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
      await client.waitFor(isSelf, 5000, 'own presence in the room');
      if (i === 0) await client.iq(`<iq type='set' id='instant' to='${HALL}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
    }
    // An occupant the room believes is on n2 whose session is not there (as after a lost 'unavailable').
    await n1.stores.rooms.putOccupant('lobby', { nick: 'ghost', jid: 'dave@localhost/gone', role: 'participant', node: 'n2' });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, client] of people.entries())
        client.send(`<message to='${HALL}' type='groupchat' xmlns='jabber:client'><body>h${i}-${round}</body></message>`);
    }
    const total = ROUNDS * people.length;
    const hallMessages = (client: BoshTestClient) => roomMessages(client).filter((m) => String(m.attrs.from).startsWith(HALL));
    for (const client of people) await client.waitFor(() => hallMessages(client).length >= total, 10_000, `${total} messages of the hall`);
    const orders = people.map((client) => hallMessages(client).map((m) => m.getChildText('body')));
    for (const order of orders.slice(1)) expect(order).toEqual(orders[0]);
    expect(hallMessages(people[5] as BoshTestClient).map(seqOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // The ghost's copy, routed again on n2, is not handed to dave's other resource (RFC 6121 §8.5.3.2.1).
    expect(hallMessages(people[5] as BoshTestClient).every((m) => m.attrs.to === 'dave@localhost/h1')).toBe(true);
    expect(hallMessages(people[5] as BoshTestClient)).toHaveLength(total);
    for (const client of people) await client.terminate();
  });

  it('a group: a member online on another node hears of each message; an offline member catches up after its last sequence number', async () => {
    const GROUP = 'crew@conference.localhost';
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const alice = await login(n1, 'alice', 'group');
    alice.send(`<presence xmlns='jabber:client'/>`);
    alice.send(`<presence to='${GROUP}/al' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await alice.waitFor(isSelf, 5000, 'own presence in the group');
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'><value>1</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x>`;
    await alice.iq(
      `<iq type='set' id='cfg' to='${GROUP}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query></iq>`,
      'cfg',
    );
    const items = ['bob', 'carol', 'dave'].map((u) => `<item jid='${u}@localhost' affiliation='member'/>`).join('');
    await alice.iq(
      `<iq type='set' id='members' to='${GROUP}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#admin'>${items}</query></iq>`,
      'members',
    );
    // bob is in the group on n2; carol is online on n3 but not in it; dave is offline.
    const bob = await login(n2, 'bob', 'group');
    bob.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence to='${GROUP}/bo' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await bob.waitFor(isSelf, 5000, 'own presence in the group');
    const carol = await login(n3, 'carol', 'group');
    carol.send(`<presence xmlns='jabber:client'/>`);
    await carol.iq(`<iq type='get' id='after-presence' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after-presence');

    const texts = ['g1', 'g2', 'g3', 'g4'];
    for (const [i, text] of texts.entries())
      (i % 2 === 0 ? alice : bob).send(`<message to='${GROUP}' type='groupchat' xmlns='jabber:client'><body>${text}</body></message>`);
    for (const client of [alice, bob])
      await client.waitFor(
        () => roomMessages(client).filter((m) => m.attrs.from !== undefined && String(m.attrs.from).startsWith(GROUP)).length >= texts.length,
        5000,
        'the group’s messages',
      );
    const seen = roomMessages(bob).filter((m) => String(m.attrs.from).startsWith(GROUP));
    const notices = () => carol.inbox.filter((e) => e.getChild('notice', 'urn:bosh-gateway:muc-notice:0') !== undefined);
    await carol.waitFor(() => notices().length >= texts.length, 5000, 'a notice per message');
    expect(notices().map((n) => n.getChild('notice')?.attrs.id)).toEqual(seen.map((m) => m.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id));

    // dave last saw the first message; everything after it, in order, on any node.
    const lastSeen = seen[0]?.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
    const dave = await login(n3, 'dave', 'group');
    dave.send(
      `<iq type='set' id='catch-up' to='${GROUP}' xmlns='jabber:client'><query xmlns='urn:xmpp:mam:2' queryid='c'><x xmlns='jabber:x:data' type='submit'><field var='after-id'><value>${lastSeen}</value></field></x></query></iq>`,
    );
    const fin = await dave.waitFor((e) => e.name === 'iq' && e.attrs.id === 'catch-up');
    expect(fin.getChild('fin', 'urn:xmpp:mam:2')?.attrs.complete).toBe('true');
    const caughtUp = dave.inbox
      .filter((e) => e.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === 'c')
      .map((e) => e.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'));
    expect(caughtUp).toEqual(seen.slice(1).map((m) => m.getChildText('body')));
    for (const client of [alice, bob, carol, dave]) await client.terminate();
  });

  it('XEP-0045 status 333, RFC 6120 §8.3: an occupant on another node whose resource left routing unannounced is removed when the room’s message to it bounces there', async () => {
    const ATTIC = 'attic@conference.localhost';
    const [n1, n2] = nodes as [RunningNode, RunningNode];
    const alice = await login(n1, 'alice', 'attic');
    const bob = await login(n2, 'bob', 'attic');
    alice.send(`<presence to='${ATTIC}/al' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
    await alice.waitFor(isSelf, 5000, 'own presence in the room');
    await alice.iq(`<iq type='set' id='instant' to='${ATTIC}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
    bob.send(`<presence to='${ATTIC}/bo' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
    await bob.waitFor(isSelf, 5000, 'own presence in the room');
    // bob's resource leaves routing on n2 (its route in Redis too) with no unavailable presence, no session end.
    const router = n2.xmpp.services.router;
    const session = router.find('bob@localhost', 'attic');
    expect(session).toBeDefined();
    if (session) router.unbind(session);
    // The room's message reaches n2 as a fanout; bob's copy bounces there, and the error reaches the room on n2.
    alice.send(`<message to='${ATTIC}' type='groupchat' xmlns='jabber:client'><body>anyone there?</body></message>`);
    await expectGhostRemoved(alice, n1, ATTIC, 'bo');
    for (const client of [alice, bob]) await client.terminate();
  });

  it('XEP-0045 status 333: an occupant whose node died without the room being told is removed when the room’s message to it bounces', async () => {
    const CELLAR = 'cellar@conference.localhost';
    const [n1] = nodes as [RunningNode];
    const alice = await login(n1, 'alice', 'cellar');
    alice.send(`<presence to='${CELLAR}/al' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
    await alice.waitFor(isSelf, 5000, 'own presence in the room');
    await alice.iq(`<iq type='set' id='instant' to='${CELLAR}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
    // dave's session was on n9, a node that joined and is gone: no heartbeat, no routes, the room never told.
    const admin = new Redis(redis.url);
    await admin.sadd('bosh:nodes', 'n9');
    admin.disconnect();
    await n1.stores.rooms.putOccupant('cellar', { nick: 'da', jid: 'dave@localhost/n9', role: 'participant', node: 'n9' });
    // Whether the bus still takes it for n9 (the reaper routes it again) or refuses it (routed at once), dave's copy bounces.
    alice.send(`<message to='${CELLAR}' type='groupchat' xmlns='jabber:client'><body>hello?</body></message>`);
    await expectGhostRemoved(alice, n1, CELLAR, 'da');
    await alice.terminate();
  });

  it('XEP-0045 §7.2.11 locked room, §7.2.6 password, §7.13/§8.6 voice request and an iq relayed between occupants, the room’s users on three nodes', async () => {
    const HALL = 'hall@conference.localhost';
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const alice = await login(n1, 'alice', 'hall');
    const bob = await login(n2, 'bob', 'hall');
    const carol = await login(n3, 'carol', 'hall');
    const enter = (client: BoshTestClient, nick: string, extra = '') => {
      client.send(`<presence to='${HALL}/${nick}' xmlns='jabber:client'><x xmlns='${MUC}'>${extra}</x></presence>`);
    };
    const refusal = (client: BoshTestClient) =>
      client
        .waitFor((e) => e.name === 'presence' && e.attrs.type === 'error', 5000, 'a presence error')
        .then((e) => e.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name);
    for (const client of [alice, bob, carol]) client.send(`<presence xmlns='jabber:client'/>`);
    // §10.1.1 / §7.2.11: created on n1, locked for bob on n2.
    enter(alice, 'al');
    await alice.waitFor(isSelf, 5000, 'own presence in the hall');
    enter(bob, 'bo');
    expect(await refusal(bob)).toBe('item-not-found');
    // The owner configures it (reserved room, §10.1.3): moderated and password-protected.
    const form = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_moderatedroom'><value>1</value></field><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field var='muc#roomconfig_roomsecret'><value>pw</value></field></x>`;
    const configured = await alice.iq(
      `<iq type='set' id='cfg' to='${HALL}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query></iq>`,
      'cfg',
    );
    expect(configured.attrs.type).toBe('result');
    // §7.2.6: carol on n3 without the password, then with it; bob on n2 with it.
    enter(carol, 'ca');
    expect(await refusal(carol)).toBe('not-authorized');
    enter(carol, 'ca', '<password>pw</password>');
    await carol.waitFor(isSelf, 5000, 'own presence in the hall');
    enter(bob, 'bo', '<password>pw</password>');
    await bob.waitFor(isSelf, 5000, 'own presence in the hall');
    // §7.13 / §8.6: bob (visitor, n2) asks for voice; alice (moderator, n1) approves; carol (n3) sees bob get it.
    bob.send(
      `<message to='${HALL}' xmlns='jabber:client'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`,
    );
    await alice.waitFor((e) => e.name === 'message' && e.getChild('x', 'jabber:x:data') !== undefined, 5000, 'the voice request');
    alice.send(
      `<message to='${HALL}' xmlns='jabber:client'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#roomnick'><value>bo</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`,
    );
    await carol.waitFor(
      (e) => e.name === 'presence' && e.attrs.from === `${HALL}/bo` && e.getChild('x', MUC_USER)?.getChild('item')?.attrs.role === 'participant',
      5000,
      'bob’s voice',
    );
    // An iq from carol (n3) to bob's occupant JID reaches bob on n2; bob's answer is relayed back on n2.
    carol.send(`<iq type='get' id='ver' to='${HALL}/bo' xmlns='jabber:client'><query xmlns='jabber:iq:version'/></iq>`);
    const relayed = await bob.waitFor((e) => e.name === 'iq' && e.attrs.type === 'get', 5000, 'the relayed iq');
    expect(relayed.attrs.from).toBe(`${HALL}/ca`);
    bob.send(
      `<iq type='result' id='${String(relayed.attrs.id)}' to='${HALL}/ca' xmlns='jabber:client'><query xmlns='jabber:iq:version'><name>b</name></query></iq>`,
    );
    const answer = await carol.waitFor((e) => e.name === 'iq' && e.attrs.id === 'ver', 5000, 'the answer');
    expect(answer.attrs).toMatchObject({ type: 'result', from: `${HALL}/bo` });
    for (const client of [alice, bob, carol]) await client.terminate();
  });
});

describe('cluster: a rolling upgrade, a node of an older release among the nodes', () => {
  it('XEP-0045 §7.4: a room message goes as one fanout to a node that announces it, and as one deliver per occupant to a node without the announcement', async () => {
    const HALL = 'upgrade@conference.localhost';
    const [n1, n2] = nodes as [RunningNode, RunningNode];
    const admin = new Redis(redis.url);
    try {
      // Every node of this release announces what it reads, with its heartbeat.
      expect((await admin.get('bosh:node:n2:bus-kinds'))?.split(' ')).toContain('fanout');
      // A node of the older release: its heartbeat and nothing else (it reads no 'fanout'). The test reads its stream.
      await admin.set('bosh:node:old:alive', 'http://127.0.0.1:1', 'PX', 60_000);
      await admin.sadd('bosh:nodes', 'old');
      const alice = await login(n1, 'alice', 'upgrade');
      const bob = await login(n2, 'bob', 'upgrade');
      alice.send(`<presence to='${HALL}/al' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
      await alice.waitFor(isSelf, 5000, 'own presence in the room');
      await alice.iq(`<iq type='set' id='instant' to='${HALL}' xmlns='jabber:client'>${INSTANT_ROOM}</iq>`, 'instant');
      bob.send(`<presence to='${HALL}/bo' xmlns='jabber:client'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`);
      await bob.waitFor(isSelf, 5000, 'own presence in the room');
      for (const [nick, jid] of [
        ['c1', 'carol@localhost/old1'],
        ['d1', 'dave@localhost/old2'],
      ] as const)
        await n1.stores.rooms.putOccupant('upgrade', { nick, jid, role: 'participant', node: 'old' });

      alice.send(`<message to='${HALL}' type='groupchat' xmlns='jabber:client'><body>mixed cluster</body></message>`);
      const atBob = await bob.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'mixed cluster', 5000, 'the room message');
      await alice.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'mixed cluster', 5000, 'the room message');
      const onOldStream = (await admin.xrange('bosh:bus:old', '-', '+')).map(([, fields]) => JSON.parse(String(fields[1])) as Record<string, unknown>);
      expect(onOldStream.map((m) => [m.kind, m.to])).toEqual([
        ['deliver', 'carol@localhost/old1'],
        ['deliver', 'dave@localhost/old2'],
      ]);
      for (const m of onOldStream) {
        const stanza = parseStrictXml(String(m.stanza));
        expect(stanza.attrs.to).toBe(m.to);
        expect(stanza.getChildText('body')).toBe('mixed cluster');
        expect(stanza.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id).toBe(atBob.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id);
      }
      for (const client of [alice, bob]) await client.terminate();
    } finally {
      await admin.del('bosh:node:old:alive', 'bosh:bus:old');
      await admin.srem('bosh:nodes', 'old');
      admin.disconnect();
    }
  });
});
