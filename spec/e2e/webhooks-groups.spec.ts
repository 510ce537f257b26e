/**
 * End-to-end: webhooks for groups. A node started in-process with the business API and a sink (made
 * through POST /api/v1/webhooks) pointing at a real local HTTP receiver. Membership changes reach the
 * receiver as group.member_added / group.member_removed whether a room owner makes them over XMPP
 * (Strophe.js, XEP-0045 §9.3 / §9.5 affiliation changes) or the REST API does (PUT/DELETE
 * /api/v1/groups/{id}/members/{username}); a message pushed to a group through POST /api/v1/messages
 * is one message.groupchat event with the room and its sequence number. Every request's signature is
 * checked with the standardwebhooks verifier.
 */
import request from 'supertest';
import { TestReceiver, eventsOf } from '../webhooks/support/receiver';
import { startGateway, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { StropheClient, $iq, $msg, $pres, destroyXhrAgents, type XmlElement } from './support/strophe-client';

const KEY = 'e2e-webhooks-key-0123456789abcdef';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const MUC = 'conference.localhost';

interface ReceivedEvent {
  id: string;
  type: string;
  from: string;
  to: string;
  room?: string;
  seq?: number;
  body?: string;
  metadata: Record<string, unknown>;
}

let gateway: RunningGateway;
let receiver: TestReceiver;
let secret: string;
const clients: StropheClient[] = [];

const api = (method: 'get' | 'post' | 'put' | 'delete', path: string): request.Test =>
  request(gateway.url)[method](`/api/v1${path}`).set('Authorization', `Bearer ${KEY}`);

/** Every event the receiver acknowledged, once each (a retry repeats an id). */
function received(): ReceivedEvent[] {
  const seen = new Map<string, ReceivedEvent>();
  for (const request of receiver.requests) {
    if (!('status' in request.answer) || request.answer.status >= 300) continue;
    for (const event of eventsOf(request.body) as ReceivedEvent[]) if (!seen.has(event.id)) seen.set(event.id, event);
  }
  return [...seen.values()];
}

async function eventMatching(check: (event: ReceivedEvent) => boolean): Promise<ReceivedEvent> {
  await receiver.until(() => received().some(check));
  return received().find(check) as ReceivedEvent;
}

function sendIq(client: StropheClient, iq: ReturnType<typeof $iq>): Promise<XmlElement> {
  return new Promise((resolve, reject) => {
    client.conn.sendIQ(
      iq,
      resolve,
      (error: XmlElement | null) => reject(new Error(`iq failed: ${error ? (error.getAttribute('type') ?? 'error') : 'timeout'}`)),
      10_000,
    );
  });
}

function hasStatus(presence: XmlElement, code: string): boolean {
  const x = presence.getElementsByTagNameNS(NS_MUC_USER, 'x')[0];
  return x !== undefined && Array.from(x.getElementsByTagName('status')).some((s) => s.getAttribute('code') === code);
}

async function online(user: string): Promise<StropheClient> {
  const client = new StropheClient(`${user}-webhooks`, gateway.boshUrl);
  clients.push(client);
  await client.login(`${user}@localhost`, TEST_PASSWORD);
  await client.becomeAvailable();
  return client;
}

beforeAll(async () => {
  receiver = await TestReceiver.start();
  gateway = await startGateway({ API_KEYS: `e2e:${KEY}`, USERS: `alice:${TEST_PASSWORD},bob:${TEST_PASSWORD},carol:${TEST_PASSWORD}` });
  const created = await api('post', '/webhooks').send({
    url: receiver.url,
    events: ['group.member_added', 'group.member_removed', 'message.groupchat'],
    batch: { max_events: 20, max_delay_ms: 50 },
  });
  expect(created.status).toBe(201);
  secret = created.body.secret as string;
});

afterAll(async () => {
  for (const client of clients) await client.close();
  destroyXhrAgents();
  await gateway.close();
  await receiver.close();
});

afterEach(() => {
  // Whatever a test saw, every request the node made was signed with the sink's secret.
  receiver.verifyAll(secret);
});

describe('group membership webhooks', () => {
  it('reports an owner adding and removing a member over XMPP (XEP-0045 §10.1.2 instant room, §9.3 member, §9.5 none) as group.member_added / group.member_removed with the owner as by', async () => {
    const room = `ops@${MUC}`;
    const alice = await online('alice');
    alice.conn.send($pres({ to: `${room}/alice` }).c('x', { xmlns: NS_MUC }));
    await alice.waitForStanza('presence', (p) => p.getAttribute('from') === `${room}/alice` && hasStatus(p, '110'));
    // §10.1.2: the new room is locked until its owner accepts the default configuration.
    await sendIq(alice, $iq({ type: 'set', to: room }).c('query', { xmlns: NS_MUC_OWNER }).c('x', { xmlns: 'jabber:x:data', type: 'submit' }));

    const creator = await eventMatching((e) => e.type === 'group.member_added' && e.room === room && e.from === 'alice@localhost');
    expect(creator).toMatchObject({ to: room, metadata: { by: 'alice@localhost', affiliation: 'owner' } });

    await sendIq(alice, $iq({ type: 'set', to: room }).c('query', { xmlns: NS_MUC_ADMIN }).c('item', { jid: 'bob@localhost', affiliation: 'member' }));
    const added = await eventMatching((e) => e.type === 'group.member_added' && e.room === room && e.from === 'bob@localhost');
    expect(added).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'group.member_added',
      time: expect.any(String),
      node: 'local',
      from: 'bob@localhost',
      to: room,
      room,
      metadata: { by: 'alice@localhost', affiliation: 'member' },
    });

    await sendIq(alice, $iq({ type: 'set', to: room }).c('query', { xmlns: NS_MUC_ADMIN }).c('item', { jid: 'bob@localhost', affiliation: 'none' }));
    const removed = await eventMatching((e) => e.type === 'group.member_removed' && e.room === room && e.from === 'bob@localhost');
    expect(removed).toMatchObject({ to: room, metadata: { by: 'alice@localhost', affiliation: 'none', reason: 'affiliation_changed' } });
    expect(removed.id).not.toBe(added.id);
  });

  it('reports members added and removed through PUT/DELETE /api/v1/groups/{id}/members/{username}, without by (the API is not a user)', async () => {
    const created = await api('post', '/groups').send({ name: 'Support', id: 'support', members: ['alice'] });
    expect(created.status).toBe(201);
    const room = created.body.jid as string;
    await eventMatching((e) => e.type === 'group.member_added' && e.room === room && e.from === 'alice@localhost');

    await api('put', '/groups/support/members/carol').expect(204);
    const added = await eventMatching((e) => e.type === 'group.member_added' && e.room === room && e.from === 'carol@localhost');
    expect(added).toMatchObject({ to: room, metadata: { affiliation: 'member' } });
    expect(added.metadata).not.toHaveProperty('by');

    await api('delete', '/groups/support/members/carol').expect(204);
    const removed = await eventMatching((e) => e.type === 'group.member_removed' && e.room === room && e.from === 'carol@localhost');
    expect(removed).toMatchObject({ to: room, metadata: { affiliation: 'none' } });
    // Adding a member again is a new event, not a repeat of the first.
    await api('put', '/groups/support/members/carol').expect(204);
    await receiver.until(() => received().filter((e) => e.type === 'group.member_added' && e.room === room && e.from === 'carol@localhost').length === 2);
  });

  it('reports a message pushed to a group through POST /api/v1/messages as one message.groupchat with the room and its sequence number, with nobody in the room and with an occupant', async () => {
    const created = await api('post', '/groups').send({ name: 'Releases', id: 'releases', members: ['alice', 'bob'] });
    expect(created.status).toBe(201);
    const room = created.body.jid as string;

    // Nobody is in the room: the message is still archived, numbered and reported.
    const first = await api('post', '/messages').send({ to: { group: 'releases' }, body: 'Freeze at noon' });
    expect(first.status).toBe(200);
    const [firstResult] = first.body.results as Array<{ seq: number; archive_id: string }>;
    const quiet = await eventMatching((e) => e.type === 'message.groupchat' && e.room === room && e.body === 'Freeze at noon');
    expect(quiet).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'message.groupchat',
      time: expect.any(String),
      node: 'local',
      from: room,
      to: room,
      body: 'Freeze at noon',
      room,
      seq: 1,
      metadata: expect.objectContaining({ stanza_type: 'groupchat', room_stanza_id: firstResult?.archive_id, sender: 'localhost' }),
    });

    // Bob in the room (XEP-0045 §7.2): his copy is not an event of its own.
    const bob = await online('bob');
    bob.conn.send($pres({ to: `${room}/bob` }).c('x', { xmlns: NS_MUC }));
    await bob.waitForStanza('presence', (p) => p.getAttribute('from') === `${room}/bob` && hasStatus(p, '110'));
    const second = await api('post', '/messages').send({ to: { group: 'releases' }, body: 'Freeze lifted' });
    expect(second.status).toBe(200);
    await bob.waitForStanza('message', (m) => m.getElementsByTagName('body')[0]?.textContent === 'Freeze lifted');
    const lifted = await eventMatching((e) => e.type === 'message.groupchat' && e.room === room && e.body === 'Freeze lifted');
    expect(lifted).toMatchObject({ from: room, to: room, seq: 2 });
    // A message Bob writes to the room is reported from his occupant JID with the next number.
    bob.conn.send($msg({ to: room, type: 'groupchat' }).c('body').t('Thanks'));
    const own = await eventMatching((e) => e.type === 'message.groupchat' && e.room === room && e.body === 'Thanks');
    expect(own).toMatchObject({ from: `${room}/bob`, to: room, seq: 3, metadata: expect.objectContaining({ sender: 'bob@localhost' }) });
    expect(
      received()
        .filter((e) => e.type === 'message.groupchat' && e.room === room)
        .map((e) => e.seq),
    ).toEqual([1, 2, 3]);
  });

  it('reports DELETE /api/v1/groups/{id} of a group of 3 members (XEP-0045 §10.9) as 3 group.member_removed with metadata.reason group_destroyed', async () => {
    const created = await api('post', '/groups').send({ name: 'Launch', id: 'launch', owner: 'alice', members: ['bob', 'carol'] });
    expect(created.status).toBe(201);
    const room = created.body.jid as string;
    await receiver.until(() => received().filter((e) => e.type === 'group.member_added' && e.room === room).length === 3);

    await api('delete', '/groups/launch').expect(204);
    const removals = () => received().filter((e) => e.type === 'group.member_removed' && e.room === room);
    await receiver.until(() => removals().length === 3);
    expect(
      removals()
        .map((e) => e.from)
        .sort(),
    ).toEqual(['alice@localhost', 'bob@localhost', 'carol@localhost']);
    for (const event of removals()) expect(event).toMatchObject({ to: room, metadata: { affiliation: 'none', reason: 'group_destroyed' } });
    expect(removals()[0]?.metadata).not.toHaveProperty('by');
  });

  it('reports DELETE /api/v1/users/{username} as group.member_removed with metadata.reason account_removed for each group the user was in', async () => {
    await api('post', '/users').send({ username: 'dave', password: TEST_PASSWORD }).expect(201);
    const rooms: string[] = [];
    for (const id of ['design', 'review']) {
      const created = await api('post', '/groups').send({ name: id, id, owner: 'alice', members: ['dave'] });
      expect(created.status).toBe(201);
      rooms.push(created.body.jid as string);
    }
    await api('delete', '/users/dave').expect(204);
    const removals = () => received().filter((e) => e.type === 'group.member_removed' && e.from === 'dave@localhost');
    await receiver.until(() => removals().length === 2);
    expect(removals().map((e) => [e.room, e.metadata.reason])).toEqual(rooms.map((room) => [room, 'account_removed']));
    expect((await api('get', '/groups/design')).body.members).toEqual([{ username: 'alice', jid: 'alice@localhost', affiliation: 'owner' }]);
  });
});
