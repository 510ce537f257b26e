import type { EventName, GatewayEvents } from '../../src/events';
import { until, World } from '../xmpp/support/actor-harness';

const ROSTER = 'jabber:iq:roster';

/** Everything the world's hub emits for one event, in order. */
function record<K extends EventName>(world: World, event: K): GatewayEvents[K][] {
  const seen: GatewayEvents[K][] = [];
  world.domain.events.on(event, (payload) => void seen.push(payload));
  return seen;
}

async function first<T>(seen: readonly T[], what: string): Promise<T> {
  await until(() => seen.length > 0, what);
  return seen[0] as T;
}

describe('message events', () => {
  it('reports a chat message delivered to a resource as messageRouted, with its addresses, type, id and the stanza', async () => {
    const world = await World.with({ alice: 'a', bob: 'b' });
    const routed = record(world, 'messageRouted');
    const alice = await world.login('alice', 'a', 'desk');
    const bob = await world.login('bob', 'b', 'phone');
    bob.send('<presence/>');
    await bob.sync();
    alice.send("<message to='bob@localhost' type='chat' id='m1'><body>hello</body></message>");
    await bob.next((e) => e.name === 'message', 'the message');
    const event = await first(routed, 'messageRouted');
    expect(event).toMatchObject({
      from: 'alice@localhost/desk',
      to: 'bob@localhost',
      type: 'chat',
      id: 'm1',
      recipients: ['bob@localhost/phone'],
      remote: false,
      node: 'local',
    });
    expect(event.stanza).toContain('<body>hello</body>');
    expect(event.at).toBeInstanceOf(Date);
  });

  it('reports a message for a user with no available resource as messageStored, not as routed', async () => {
    const world = await World.with({ alice: 'a', bob: 'b' });
    const stored = record(world, 'messageStored');
    const routed = record(world, 'messageRouted');
    const alice = await world.login('alice', 'a', 'desk');
    alice.send("<message to='bob@localhost' type='chat' id='m2'><body>later</body></message>");
    const event = await first(stored, 'messageStored');
    expect(event).toMatchObject({ from: 'alice@localhost/desk', to: 'bob@localhost', type: 'chat', id: 'm2' });
    expect(event.stanza).toContain('<body>later</body>');
    await alice.sync();
    expect(routed).toEqual([]);
  });

  it('reports a message answered with an error as messageBounced, with the condition the sender got', async () => {
    const world = await World.with({ alice: 'a' });
    const bounced = record(world, 'messageBounced');
    const alice = await world.login('alice', 'a', 'desk');
    alice.send("<message to='nobody@localhost' type='chat' id='m3'><body>anyone?</body></message>");
    const error = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error', 'the bounce');
    expect(error.attrs.id).toBe('m3');
    const event = await first(bounced, 'messageBounced');
    expect(event).toMatchObject({ from: 'alice@localhost/desk', to: 'nobody@localhost', type: 'chat', id: 'm3', condition: 'service-unavailable' });
  });
});

describe('session events', () => {
  it('reports sessionStarted when a resource is bound and sessionEnded with the transport’s reason', async () => {
    const world = await World.with({ alice: 'a' });
    const started = record(world, 'sessionStarted');
    const ended = record(world, 'sessionEnded');
    const alice = await world.login('alice', 'a', 'desk');
    const start = await first(started, 'sessionStarted');
    expect(start).toMatchObject({ jid: 'alice@localhost/desk', resource: 'desk', remoteAddress: '127.0.0.1', node: 'local' });
    expect(start.streamId).toMatch(/^stream-/);
    expect(ended).toEqual([]);
    alice.actor.end('terminate', []);
    const end = await first(ended, 'sessionEnded');
    expect(end).toMatchObject({ jid: 'alice@localhost/desk', streamId: start.streamId, reason: 'terminate', condition: undefined });
  });

  it('reports a session replaced by a new one with the same resource as ended for that reason', async () => {
    const world = await World.with({ alice: 'a' });
    const ended = record(world, 'sessionEnded');
    await world.login('alice', 'a', 'desk');
    await world.login('alice', 'a', 'desk');
    const end = await first(ended, 'sessionEnded');
    expect(end).toMatchObject({ jid: 'alice@localhost/desk', reason: 'replaced', condition: 'conflict' });
  });

  it('reports no session for a stream that never bound a resource', async () => {
    const world = await World.with({ alice: 'a' });
    const started = record(world, 'sessionStarted');
    const ended = record(world, 'sessionEnded');
    const client = world.open();
    await client.authenticate('alice', 'a');
    client.actor.end('terminate', []);
    const other = await world.login('alice', 'a', 'other');
    await other.sync();
    await until(() => started.length > 0, 'the other session');
    expect(started.map((s) => s.resource)).toEqual(['other']);
    expect(ended).toEqual([]);
  });
});

describe('presence and roster events', () => {
  it('reports available presence with show, status and priority, then unavailable, for the full JID', async () => {
    const world = await World.with({ alice: 'a' });
    const changes = record(world, 'presenceChanged');
    const alice = await world.login('alice', 'a', 'desk');
    alice.send('<presence><show>away</show><status>lunch</status><priority>5</priority></presence>');
    alice.send("<presence type='unavailable'/>");
    await alice.sync();
    await until(() => changes.length >= 2, 'two presence changes');
    expect(changes.map(({ jid, available, show, status, priority }) => ({ jid, available, show, status, priority }))).toEqual([
      { jid: 'alice@localhost/desk', available: true, show: 'away', status: 'lunch', priority: 5 },
      { jid: 'alice@localhost/desk', available: false, show: undefined, status: undefined, priority: 0 },
    ]);
  });

  it('reports an available session that ends as unavailable', async () => {
    const world = await World.with({ alice: 'a' });
    const changes = record(world, 'presenceChanged');
    const alice = await world.login('alice', 'a', 'desk');
    alice.send('<presence/>');
    await alice.sync();
    alice.actor.end('inactivity', []);
    await world.domain.settle();
    await until(() => changes.length >= 2, 'two presence changes');
    expect(changes.map((c) => c.available)).toEqual([true, false]);
  });

  it('reports a roster item added, changed by a subscription and removed, with the roster version', async () => {
    const world = await World.with({ alice: 'a', bob: 'b' });
    const changes = record(world, 'rosterChanged');
    const alice = await world.login('alice', 'a', 'desk');
    await alice.iq(`<iq type='set' id='r1'><query xmlns='${ROSTER}'><item jid='bob@localhost' name='Bob'><group>Friends</group></item></query></iq>`);
    alice.send("<presence to='bob@localhost' type='subscribe'/>");
    await alice.sync();
    await alice.iq(`<iq type='set' id='r2'><query xmlns='${ROSTER}'><item jid='bob@localhost' subscription='remove'/></query></iq>`);
    await until(() => changes.filter((c) => c.user === 'alice@localhost').length >= 3, 'three roster changes of alice');
    const own = changes.filter((c) => c.user === 'alice@localhost');
    expect(
      own.map((c) => ({
        contact: c.contact,
        item: c.item && { name: c.item.name, groups: c.item.groups, subscription: c.item.subscription, ask: c.item.ask },
      })),
    ).toEqual([
      { contact: 'bob@localhost', item: { name: 'Bob', groups: ['Friends'], subscription: 'none', ask: false } },
      { contact: 'bob@localhost', item: { name: 'Bob', groups: ['Friends'], subscription: 'none', ask: true } },
      { contact: 'bob@localhost', item: undefined },
    ]);
    const versions = own.map((c) => c.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(3);
  });
});
