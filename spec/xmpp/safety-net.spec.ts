import { Element } from 'ltx';
import { BoshTransport } from '../../src/bosh/transport';
import { DEFAULT_LIMITS, Exchange, NS } from '../support/bosh-harness';
import { iqResult } from '../../src/xmpp/iq-handlers';
import { NS_SASL } from '../../src/base/namespaces';
import { StanzaError } from '../../src/base/stanza-error';
import { FakeScheduler } from '../support/fake-scheduler';
import { quiesce, stanzaErrorOf, until, World, type Client } from './support/actor-harness';

const NS_TEST = 'urn:test:faults';

/** A test-only module: iqs that throw, reject, throw a StanzaError, or wait for a gate to open. */
function registerFaultyModule(world: World): { open(): void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const { iq } = world.domain.services;
  iq.server.on('get', 'throw', NS_TEST, () => {
    throw new TypeError('handler bug');
  });
  iq.server.on('get', 'reject', NS_TEST, async () => {
    throw new Error('async handler bug');
  });
  iq.server.on('get', 'refuse', NS_TEST, () => {
    throw new StanzaError('not-allowed', 'refused deep inside');
  });
  iq.server.on('get', 'slow', NS_TEST, async (request) => {
    await gate;
    return iqResult(request);
  });
  return { open: () => open() };
}

function testIq(name: string, id: string): string {
  return `<iq type='get' id='${id}'><${name} xmlns='${NS_TEST}'/></iq>`;
}

/** Two other users keep chatting: a message from one reaches the other. */
async function expectChatting(from: Client, to: Client, text: string): Promise<void> {
  from.send(`<message to='${to.jid}' type='chat'><body>${text}</body></message>`);
  const got = await to.next((e) => e.name === 'message' && e.getChildText('body') === text, `the message '${text}'`);
  expect(got.attrs.from).toBe(from.jid);
}

describe('a fault in a stanza handler ends that session alone (the safety net)', () => {
  it.each([
    ['throws', 'throw'],
    ['rejects', 'reject'],
  ])('closes the stream of the session whose handler %s with internal-server-error, while two other sessions keep chatting', async (_how, name) => {
    const world = await World.with({ alice: 'a', bob: 'b', carol: 'c' });
    registerFaultyModule(world);
    const alice = await world.login('alice', 'a', 'web');
    const bob = await world.login('bob', 'b', 'web');
    const carol = await world.login('carol', 'c', 'web');

    alice.send(testIq(name, 'f1'));
    await until(() => alice.output.closed, 'the faulty session to close');

    expect(alice.output.streamErrorCondition).toBe('internal-server-error');
    // Unbound: nothing reaches the ended session any more.
    expect(world.router.find('alice@localhost', 'web')).toBeUndefined();
    expect(bob.output.closed).toBe(false);
    expect(carol.output.closed).toBe(false);
    await expectChatting(bob, carol, 'still here');
    await expectChatting(carol, bob, 'me too');
  });

  it('renders a StanzaError thrown deep as that stanza’s error, and the session goes on', async () => {
    const world = await World.with({ alice: 'a' });
    registerFaultyModule(world);
    const alice = await world.login('alice', 'a', 'web');
    const answer = await alice.iq(testIq('refuse', 'r1'));
    expect(stanzaErrorOf(answer)).toEqual({ type: 'cancel', condition: 'not-allowed' });
    expect(alice.output.closed).toBe(false);
    await alice.sync();
  });

  it('answers with a wait-type internal-server-error, and keeps the session, when the stores are unreachable (an outage, not a bug)', async () => {
    const world = await World.with({ alice: 'a' }, { storesReady: () => false });
    registerFaultyModule(world);
    const alice = await world.login('alice', 'a', 'web');
    const answer = await alice.iq(testIq('reject', 'o1'));
    expect(stanzaErrorOf(answer)).toEqual({ type: 'wait', condition: 'internal-server-error' });
    expect(alice.output.closed).toBe(false);
    await alice.sync();
  });

  it('answers a roster removal whose subscription cancellation fails (a store outage) instead of leaving the failure unhandled', async () => {
    const world = await World.with({ alice: 'a', bob: 'b' }, { storesReady: () => false });
    const alice = await world.login('alice', 'a', 'web');
    alice.send("<presence type='subscribe' to='bob@localhost'/>");
    await alice.sync();
    jest.spyOn(world.accounts, 'exists').mockRejectedValue(new Error('store unreachable'));
    const answer = await alice.iq("<iq type='set' id='rm1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>");
    expect(stanzaErrorOf(answer)).toEqual({ type: 'wait', condition: 'internal-server-error' });
    expect(alice.output.closed).toBe(false);
  });
});

describe('a fault while delivering to a session ends the recipient’s session, never the sender’s', () => {
  it('closes the recipient whose output throws; the sender and a third session keep chatting', async () => {
    const world = await World.with({ alice: 'a', bob: 'b', carol: 'c' });
    const alice = await world.login('alice', 'a', 'web');
    const bob = await world.login('bob', 'b', 'web');
    const carol = await world.login('carol', 'c', 'web');
    const send = bob.output.send.bind(bob.output);
    bob.output.send = (element: Element) => {
      if (element.getChildText('body') === 'poison') throw new RangeError('cannot write');
      send(element);
    };

    alice.send(`<message to='${bob.jid}' type='chat'><body>poison</body></message>`);
    await until(() => bob.output.closed, 'the recipient to close');

    expect(bob.output.streamErrorCondition).toBe('internal-server-error');
    expect(alice.output.closed).toBe(false);
    await alice.sync();
    await expectChatting(alice, carol, 'after the fault');
  });
});

describe('the actor’s inbox is bounded (MAX_INBOX_STANZAS)', () => {
  it('refuses stanzas beyond the bound with a wait-type resource-constraint while a slow step runs, then processes the rest in order', async () => {
    const world = await World.with({ alice: 'a' }, { maxInboxStanzas: 3 });
    const module = registerFaultyModule(world);
    const alice = await world.login('alice', 'a', 'web');
    alice.send(testIq('slow', 'slow'));
    for (let i = 1; i <= 4; i++) alice.send(`<iq type='get' id='p${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);

    const refused = await alice.next((e) => e.attrs.id === 'p4', 'the refused ping');
    expect(stanzaErrorOf(refused)).toEqual({ type: 'wait', condition: 'resource-constraint' });

    module.open();
    const answers: string[] = [];
    for (const id of ['slow', 'p1', 'p2', 'p3']) {
      const answer = await alice.next((e) => e.name === 'iq' && e.attrs.id === id, `the answer to ${id}`);
      answers.push(`${id}:${answer.attrs.type as string}`);
    }
    expect(answers).toEqual(['slow:result', 'p1:result', 'p2:result', 'p3:result']);
    expect(alice.output.closed).toBe(false);
  });

  it('closes a stream that is not yet bound with policy-violation when its inbox overflows', async () => {
    const world = await World.with({ alice: 'a' }, { maxInboxStanzas: 1 });
    const client = world.open();
    await client.next((e) => e.name === 'stream:features');
    // The SASL step is asynchronous: what follows waits in the inbox.
    client.send(new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(Buffer.from('\0alice\0a').toString('base64')));
    client.send("<iq type='get' id='x1'><ping xmlns='urn:xmpp:ping'/></iq>");
    client.send("<iq type='get' id='x2'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(client.output.streamErrorCondition).toBe('policy-violation');
  });
});

describe('a login deadline closes streams that never log in (LOGIN_TIMEOUT)', () => {
  it('closes a stream with no bound resource after the deadline with connection-timeout', async () => {
    const timers = new FakeScheduler();
    const world = await World.with({ alice: 'a' }, { loginTimeoutMs: 120_000, timers });
    const idle = world.open();
    const authenticated = world.open();
    await authenticated.authenticate('alice', 'a');

    timers.advance(119_999);
    expect(idle.output.closed).toBe(false);
    timers.advance(1);

    expect(idle.output.streamErrorCondition).toBe('connection-timeout');
    // Authenticated is not logged in: without a bound resource the stream is closed too.
    expect(authenticated.output.streamErrorCondition).toBe('connection-timeout');
  });

  it('never closes a session that bound a resource in time, and leaves no timer behind', async () => {
    const timers = new FakeScheduler();
    const world = await World.with({ alice: 'a', bob: 'b' }, { loginTimeoutMs: 120_000, timers });
    const alice = await world.login('alice', 'a', 'web');
    const bob = await world.login('bob', 'b', 'web');
    expect(timers.pendingTimers).toBe(0);
    timers.advance(600_000);
    await quiesce();
    expect(alice.output.closed).toBe(false);
    await expectChatting(alice, bob, 'long after the deadline');
  });

  it('tells a BOSH client on its held request: a remote-stream-error body carrying connection-timeout (XEP-0206 §7)', async () => {
    const scheduler = new FakeScheduler();
    const world = await World.with({ alice: 'a' }, { loginTimeoutMs: 120_000, timers: scheduler });
    const transport = new BoshTransport({
      limits: { ...DEFAULT_LIMITS, maxWait: 60 },
      domains: new Set(['localhost']),
      maxStanzaBytes: 65_536,
      scheduler,
      openStream: world.domain.openStream,
    });
    const send = (raw: string): Exchange => {
      const exchange = new Exchange();
      transport.handle(raw, { remoteAddress: '127.0.0.1' }, (response) => {
        exchange.count++;
        exchange.response = response;
      });
      scheduler.runDeferred();
      return exchange;
    };
    const creation = send(
      `<body rid='10' to='localhost' wait='60' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='${NS}'/>`,
    );
    const sid = creation.attr('sid') as string;
    // The client polls as it should but never authenticates.
    send(`<body rid='11' sid='${sid}' xmlns='${NS}'/>`);
    scheduler.advance(50_000);
    send(`<body rid='12' sid='${sid}' xmlns='${NS}'/>`);
    scheduler.advance(50_000);
    const held = send(`<body rid='13' sid='${sid}' xmlns='${NS}'/>`);
    expect(held.answered).toBe(false);

    scheduler.advance(20_000);

    expect(held.attr('type')).toBe('terminate');
    expect(held.attr('condition')).toBe('remote-stream-error');
    expect(held.body).toMatch(/<stream:error><connection-timeout xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/>/);
    expect(transport.session(sid)).toBeUndefined();
  });
});
