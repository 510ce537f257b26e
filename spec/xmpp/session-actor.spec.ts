import { Element } from 'ltx';
import { NS_BIND, NS_SASL, NS_SESSION } from '../../src/base/namespaces';
import { ScramClient } from './support/scram-client';
import { DOMAIN, quiesce, stanzaErrorOf, World, xml, type Client, type WorldOptions } from './support/actor-harness';

const PING = "<ping xmlns='urn:xmpp:ping'/>";

const isMessageWithBody = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;

async function expectNothingDelivered(client: Client): Promise<void> {
  await quiesce();
  expect(client.drain().filter((e) => e.name === 'message')).toEqual([]);
}

describe('stream features follow the stream phase (RFC 6120 §4.3.2, §6.4.6, §7.4)', () => {
  it('offers SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN, and no binding, before authentication', async () => {
    const world = await World.with({ alice: 'secret' });
    const features = await world.open().next();
    expect(features.name).toBe('stream:features');
    const mechanisms = features.getChild('mechanisms', NS_SASL);
    expect(mechanisms?.getChildren('mechanism').map((m) => m.getText())).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    expect(features.getChild('bind', NS_BIND)).toBeUndefined();
  });

  it('offers binding and an optional legacy session, and no SASL, on the stream restarted after SASL success', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    expect((await client.authenticate('alice', 'secret')).name).toBe('success');
    client.actor.restart();
    const features = await client.next((e) => e.name === 'stream:features');
    expect(features.getChild('bind', NS_BIND)).toBeDefined();
    expect(features.getChild('session', NS_SESSION)?.getChild('optional')).toBeDefined();
    expect(features.getChild('mechanisms', NS_SASL)).toBeUndefined();
  });
});

describe('SASL negotiation on the stream (RFC 6120 §6.4)', () => {
  it('answers PLAIN with the right password with <success/> and no stream error', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    const answer = await client.authenticate('alice', 'secret');
    expect(answer.name).toBe('success');
    expect(client.output.closed).toBe(false);
  });

  it('answers a wrong password with <failure><not-authorized/></failure> and lets the client try again (RFC 6120 §6.4.5)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    const failure = await client.authenticate('alice', 'wrong');
    expect(failure.name).toBe('failure');
    expect(failure.getChild('not-authorized')).toBeDefined();
    expect(client.output.closed).toBe(false);
    client.send(new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(Buffer.from('\0alice\0secret').toString('base64')));
    expect((await client.next((e) => e.attrs.xmlns === NS_SASL)).name).toBe('success');
  });

  it('closes the stream with policy-violation once the allowed number of failed attempts is used up (RFC 6120 §6.4.5)', async () => {
    const world = await World.with({ alice: 'secret' }, { maxAuthFailures: 3 });
    const client = world.open();
    await client.authenticate('alice', 'wrong1');
    expect(client.output.closed).toBe(false);
    const auth = (password: string) => new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(Buffer.from(`\0alice\0${password}`).toString('base64'));
    client.send(auth('wrong2'));
    await client.next((e) => e.name === 'failure');
    expect(client.output.closed).toBe(false);
    client.send(auth('wrong3'));
    await client.next((e) => e.name === 'failure');
    expect(client.output.closed).toBe(true);
    expect(client.output.streamErrorCondition).toBe('policy-violation');
  }, 10_000);

  it('answers an unknown mechanism with invalid-mechanism (RFC 6120 §6.5.5)', async () => {
    const world = await World.with({});
    const client = world.open();
    client.send(`<auth xmlns='${NS_SASL}' mechanism='DIGEST-MD5'/>`);
    const failure = await client.next((e) => e.name === 'failure');
    expect(failure.getChild('invalid-mechanism')).toBeDefined();
  });

  it('answers data that is not base64 with incorrect-encoding (RFC 6120 §6.5.2)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    client.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>not*base64!</auth>`);
    const failure = await client.next((e) => e.name === 'failure');
    expect(failure.getChild('incorrect-encoding')).toBeDefined();
  });

  it('answers <abort/> with <failure><aborted/></failure> (RFC 6120 §6.4.4)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    client.send(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-1'/>`);
    await client.next((e) => e.name === 'challenge');
    client.send(`<abort xmlns='${NS_SASL}'/>`);
    const failure = await client.next((e) => e.name === 'failure');
    expect(failure.getChild('aborted')).toBeDefined();
  });

  it('logs in with SCRAM-SHA-256 over challenge and response, the success carrying the server signature (RFC 6120 §6.4.6, RFC 7677)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    const scram = new ScramClient('sha256', 'alice', 'secret');
    client.send(new Element('auth', { xmlns: NS_SASL, mechanism: 'SCRAM-SHA-256' }).t(Buffer.from(scram.first()).toString('base64')));
    const challenge = await client.next((e) => e.attrs.xmlns === NS_SASL);
    expect(challenge.name).toBe('challenge');
    const final = scram.final(Buffer.from(challenge.getText(), 'base64').toString());
    client.send(new Element('response', { xmlns: NS_SASL }).t(Buffer.from(final).toString('base64')));
    const success = await client.next((e) => e.attrs.xmlns === NS_SASL);
    expect(success.name).toBe('success');
    expect(scram.verify(Buffer.from(success.getText(), 'base64').toString())).toBe(true);
  });
});

describe('nothing but SASL is accepted before authentication (RFC 6120 §4.9.3.12 not-authorized)', () => {
  it('closes the stream with not-authorized when a stanza arrives before SASL, and sends nothing after', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const bob = await world.login('bob', 'secret', 'desk');
    bob.send('<presence/>');
    const intruder = world.open();
    await intruder.next();
    intruder.send("<message to='bob@localhost' type='chat'><body>hi</body></message>");
    expect(intruder.output.closed).toBe(true);
    expect(intruder.output.streamErrorCondition).toBe('not-authorized');
    expect(intruder.output.sentAfterClose).toEqual([]);
    await expectNothingDelivered(bob);
  });

  it('closes the stream with not-authorized when anything but a restart follows SASL success (RFC 6120 §6.4.6)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    await client.authenticate('alice', 'secret');
    client.send(`<iq type='get' id='p1'>${PING}</iq>`);
    expect(client.output.streamErrorCondition).toBe('not-authorized');
  });

  it('closes the stream with not-authorized when a message is sent on the restarted stream before a resource is bound (RFC 6120 §7.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    await client.authenticate('alice', 'secret');
    client.actor.restart();
    client.send("<message to='alice@localhost'><body>early</body></message>");
    expect(client.output.streamErrorCondition).toBe('not-authorized');
  });
});

describe('resource binding (RFC 6120 §7)', () => {
  it('binds the resource the client asked for and answers with the full JID and the same id (RFC 6120 §7.7.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    await client.authenticate('alice', 'secret');
    client.actor.restart();
    const result = await client.bind('phone');
    expect(result.attrs.type).toBe('result');
    expect(result.getChild('bind', NS_BIND)?.getChildText('jid')).toBe('alice@localhost/phone');
    expect(world.router.find('alice@localhost', 'phone')).toBe(client.actor);
  });

  it('generates a non-empty, distinct resource when the client asks for none (RFC 6120 §7.6.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const jids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const client = world.open();
      await client.authenticate('alice', 'secret');
      client.actor.restart();
      const result = await client.bind();
      jids.push(result.getChild('bind', NS_BIND)?.getChildText('jid') ?? '');
    }
    for (const jid of jids) expect(jid).toMatch(/^alice@localhost\/.+$/);
    expect(jids[0]).not.toBe(jids[1]);
  });

  it('normalises the requested resource (RFC 7622 §3.4)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'cafe\u0301');
    expect(client.jid).toBe('alice@localhost/caf\u00e9');
  });

  it('answers an unusable resource with bad-request and keeps the stream open for another try (RFC 6120 §7.7.2.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    await client.authenticate('alice', 'secret');
    client.actor.restart();
    const refused = await client.bind('bad\u0007resource');
    expect(refused.attrs.type).toBe('error');
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'bad-request' });
    expect(client.output.closed).toBe(false);
    expect((await client.bind('good')).attrs.type).toBe('result');
  });

  it('answers a second bind on a bound stream with not-allowed (RFC 6120 §7.6.2.2)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const second = await client.bind('tablet');
    expect(second.attrs.type).toBe('error');
    expect(stanzaErrorOf(second)).toEqual({ type: 'cancel', condition: 'not-allowed' });
    expect(client.jid).toBe('alice@localhost/phone');
    expect(world.router.find('alice@localhost', 'tablet')).toBeUndefined();
  });
});

describe('a resource conflict follows the configured policy (RFC 6120 §7.7.2.2)', () => {
  it("'replace' closes the older session with a conflict stream error and routes the resource to the newer one", async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' }, { resourceConflict: 'replace' });
    const old = await world.login('bob', 'secret', 'desk');
    const fresh = await world.login('bob', 'secret', 'desk');
    expect(old.output.closed).toBe(true);
    expect(old.output.streamErrorCondition).toBe('conflict');
    expect(fresh.jid).toBe('bob@localhost/desk');
    expect(world.router.find('bob@localhost', 'desk')).toBe(fresh.actor);

    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='bob@localhost/desk' type='chat'><body>to the new one</body></message>");
    await fresh.next(isMessageWithBody('to the new one'), 'the message on the new session');
    expect(old.output.sentAfterClose).toEqual([]);
  });

  it("'override' gives the newer session another resource and leaves the older one bound", async () => {
    const world = await World.with({ bob: 'secret' }, { resourceConflict: 'override' });
    const old = await world.login('bob', 'secret', 'desk');
    const fresh = await world.login('bob', 'secret', 'desk');
    expect(old.output.closed).toBe(false);
    expect(fresh.jid).not.toBe('bob@localhost/desk');
    expect(fresh.jid.startsWith('bob@localhost/')).toBe(true);
    expect(world.router.find('bob@localhost', 'desk')).toBe(old.actor);
    expect(world.router.find('bob@localhost', fresh.actor.resource)).toBe(fresh.actor);
  });

  it("'refuse' answers the newer bind with a conflict error and keeps the older session", async () => {
    const world = await World.with({ bob: 'secret' }, { resourceConflict: 'refuse' });
    const old = await world.login('bob', 'secret', 'desk');
    const client = world.open();
    await client.authenticate('bob', 'secret');
    client.actor.restart();
    const refused = await client.bind('desk');
    expect(stanzaErrorOf(refused)).toEqual({ type: 'cancel', condition: 'conflict' });
    expect(old.output.closed).toBe(false);
    expect(world.router.find('bob@localhost', 'desk')).toBe(old.actor);
    expect((await client.bind('laptop')).attrs.type).toBe('result');
  });
});

describe('iq stanzas to the server (RFC 6120 §8.2.3, §10.3)', () => {
  it('answers a ping to the domain with a result from the domain to the full JID, with the same id (XEP-0199 §4.2)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const result = await client.iq(`<iq type='get' id='ping-1' to='${DOMAIN}'>${PING}</iq>`);
    expect(result.attrs).toMatchObject({ type: 'result', id: 'ping-1', from: DOMAIN, to: 'alice@localhost/phone' });
  });

  it('answers a ping with no to address as well (RFC 6120 §10.3)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const result = await client.iq(`<iq type='get' id='ping-2'>${PING}</iq>`);
    expect(result.attrs).toMatchObject({ type: 'result', id: 'ping-2', to: 'alice@localhost/phone' });
  });

  it('answers the legacy session iq with a result (RFC 3921 §3)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const result = await client.iq(`<iq type='set' id='sess'><session xmlns='${NS_SESSION}'/></iq>`);
    expect(result.attrs.type).toBe('result');
  });

  it('answers an iq the server does not know with service-unavailable, from the domain (RFC 6120 §8.4)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const answer = await client.iq(`<iq type='get' id='v1' to='${DOMAIN}'><query xmlns='urn:example:unknown'/></iq>`);
    expect(answer.attrs).toMatchObject({ type: 'error', id: 'v1', from: DOMAIN, to: 'alice@localhost/phone' });
    expect(stanzaErrorOf(answer)).toEqual({ type: 'cancel', condition: 'service-unavailable' });
  });

  it('answers an iq get with two payloads with bad-request (RFC 6120 §8.2.3)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    const answer = await client.iq(`<iq type='get' id='two'>${PING}${PING}</iq>`);
    expect(stanzaErrorOf(answer).condition).toBe('bad-request');
  });

  it('does not answer an iq result or error sent to the server (RFC 6120 §8.2.3)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = await world.login('alice', 'secret', 'phone');
    client.send(`<iq type='result' id='r1' to='${DOMAIN}'/>`);
    client.send(`<iq type='error' id='r2' to='${DOMAIN}'><error type='cancel'/></iq>`);
    await quiesce();
    expect(client.drain()).toEqual([]);
  });
});

describe('the server checks and stamps the from address (RFC 6120 §8.1.2.1)', () => {
  it('stamps the full JID on a stanza sent without from', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    alice.send("<message to='bob@localhost/desk' type='chat'><body>stamped</body></message>");
    const got = await bob.next(isMessageWithBody('stamped'));
    expect(got.attrs.from).toBe('alice@localhost/phone');
  });

  it('accepts the bare JID as from and stamps the full JID over it', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    alice.send("<message from='alice@localhost' to='bob@localhost/desk' type='chat'><body>bare-from</body></message>");
    expect((await bob.next(isMessageWithBody('bare-from'))).attrs.from).toBe('alice@localhost/phone');
  });

  it.each([
    ['another user', 'bob@localhost/desk'],
    ['another resource of the same user', 'alice@localhost/tablet'],
    ['the server', DOMAIN],
  ])('closes the stream with invalid-from when from names %s, and delivers nothing (RFC 6120 §4.9.3.9)', async (_who, from) => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    alice.send(`<message from='${from}' to='bob@localhost/desk' type='chat'><body>spoof</body></message>`);
    expect(alice.output.streamErrorCondition).toBe('invalid-from');
    await expectNothingDelivered(bob);
    expect(world.router.find('alice@localhost', 'phone')).toBeUndefined();
  });
});

describe('messages between two sessions of this server (RFC 6121 §8.5)', () => {
  it('delivers a message to a full JID with the sender’s full JID as from (RFC 6121 §8.5.3.1)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    alice.send("<message to='bob@localhost/desk' type='chat' id='m1'><body>hello bob</body></message>");
    const got = await bob.next(isMessageWithBody('hello bob'));
    expect(got.attrs).toMatchObject({ from: 'alice@localhost/phone', to: 'bob@localhost/desk', id: 'm1', type: 'chat' });
  });

  it('delivers a message to a bare JID to the available resource, leaving to as the bare JID (RFC 6121 §8.5.2.1.1)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    bob.send('<presence/>');
    alice.send("<message to='bob@localhost' type='chat'><body>to bare</body></message>");
    const got = await bob.next(isMessageWithBody('to bare'));
    expect(got.attrs).toMatchObject({ from: 'alice@localhost/phone', to: 'bob@localhost' });
  });

  it('answers the sender with service-unavailable when the bare JID has no available resource and nothing can be stored (RFC 6121 §8.5.2.2.1, XEP-0160 §3)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' }, { offlinePerUser: 0 });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk'); // bound, but no initial presence
    alice.send("<message to='bob@localhost' type='chat' id='m2'><body>anyone?</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(bounced.attrs).toMatchObject({ id: 'm2', from: 'bob@localhost', to: 'alice@localhost/phone' });
    expect(stanzaErrorOf(bounced)).toEqual({ type: 'cancel', condition: 'service-unavailable' });
    await expectNothingDelivered(bob);
  });

  it('keeps a message for a bare JID with no available resource and hands it over, delay-stamped, at the next initial presence (XEP-0160, XEP-0203)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='bob@localhost' type='chat' id='later'><body>read me later</body></message>");
    // RFC 6120 §10.1: the ping is answered only once the message has been handled (stored for bob).
    await alice.sync();
    expect(alice.output.sent.filter((e) => e.attrs.type === 'error')).toEqual([]);
    const bob = await world.login('bob', 'secret', 'desk');
    await expectNothingDelivered(bob);
    bob.send('<presence/>');
    const stored = await bob.next(isMessageWithBody('read me later'));
    expect(stored.attrs).toMatchObject({ from: 'alice@localhost/phone', id: 'later' });
    expect(stored.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('answers a message to a user that does not exist with service-unavailable (RFC 6121 §8.5.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='nobody@localhost' type='chat' id='m3'><body>?</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(stanzaErrorOf(bounced).condition).toBe('service-unavailable');
  });

  it('answers a message to another domain with remote-server-not-found, as this server does not federate (RFC 6120 §8.3.3.16)', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='romeo@example.net' type='chat' id='m4'><body>?</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(bounced.attrs).toMatchObject({ id: 'm4', from: 'romeo@example.net' });
    expect(stanzaErrorOf(bounced).condition).toBe('remote-server-not-found');
  });

  it('answers a malformed to address with jid-malformed (RFC 6120 §8.3.3.8)', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='a@b@localhost' id='m5'><body>?</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(stanzaErrorOf(bounced)).toEqual({ type: 'modify', condition: 'jid-malformed' });
  });

  it('never answers an error with an error (RFC 6120 §8.3.1)', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message to='nobody@localhost' type='error' id='m6'><error type='cancel'/></message>");
    await quiesce();
    expect(alice.drain()).toEqual([]);
  });

  it('processes one session’s stanzas in the order they arrived (RFC 6120 §10.1)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    bob.send('<presence/>');
    for (let i = 1; i <= 5; i++) alice.send(`<message to='${i % 2 ? 'bob@localhost' : 'bob@localhost/desk'}' type='chat'><body>n${i}</body></message>`);
    await bob.next(isMessageWithBody('n5'));
    const bodies = bob.output.sent.filter((e) => e.name === 'message').map((e) => e.getChildText('body'));
    expect(bodies).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
  });
});

describe('presence priority decides which resources get messages to the bare JID (RFC 6121 §4.7.2.3, §8.5.2.1.1)', () => {
  async function bobWithTwoResources(priorityA: number | undefined, priorityB: number | undefined, options: WorldOptions = {}) {
    const world = await World.with({ alice: 'secret', bob: 'secret' }, options);
    const alice = await world.login('alice', 'secret', 'phone');
    const a = await world.login('bob', 'secret', 'a');
    const b = await world.login('bob', 'secret', 'b');
    const presence = (p: number | undefined) => (p === undefined ? '<presence/>' : `<presence><priority>${p}</priority></presence>`);
    a.send(presence(priorityA));
    b.send(presence(priorityB));
    await a.sync();
    await b.sync();
    return { world, alice, a, b };
  }

  it('delivers only to the resource with the higher priority', async () => {
    const { alice, a, b } = await bobWithTwoResources(5, 1);
    alice.send("<message to='bob@localhost' type='chat'><body>prio</body></message>");
    await a.next(isMessageWithBody('prio'));
    await expectNothingDelivered(b);
  });

  it('delivers to every resource sharing the highest priority', async () => {
    const { alice, a, b } = await bobWithTwoResources(2, 2);
    alice.send("<message to='bob@localhost' type='chat'><body>both</body></message>");
    await a.next(isMessageWithBody('both'));
    await b.next(isMessageWithBody('both'));
  });

  it('never delivers a bare-JID message to a negative-priority resource, but still delivers to its full JID', async () => {
    const { alice, a, b } = await bobWithTwoResources(-1, 0);
    alice.send("<message to='bob@localhost' type='chat'><body>bare</body></message>");
    await b.next(isMessageWithBody('bare'));
    alice.send("<message to='bob@localhost/a' type='chat'><body>direct</body></message>");
    const first = await a.next((e) => e.name === 'message');
    expect(first.getChildText('body')).toBe('direct');
  });

  it('treats a user whose resources all have negative priority as having none: the message is not delivered to them (bounced here, with no offline storage)', async () => {
    const { alice, a, b } = await bobWithTwoResources(-1, -5, { offlinePerUser: 0 });
    alice.send("<message to='bob@localhost' type='chat' id='neg'><body>?</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(stanzaErrorOf(bounced).condition).toBe('service-unavailable');
    await expectNothingDelivered(a);
    await expectNothingDelivered(b);
  });

  it('stops delivering bare-JID messages to a resource after its unavailable presence (RFC 6121 §4.5)', async () => {
    const { alice, a, b } = await bobWithTwoResources(5, 1);
    a.send("<presence type='unavailable'/>");
    await a.sync();
    alice.send("<message to='bob@localhost' type='chat'><body>after</body></message>");
    await b.next(isMessageWithBody('after'));
    await expectNothingDelivered(a);
  });

  it('takes a priority update from later presence (RFC 6121 §4.7.2.3)', async () => {
    const { alice, a, b } = await bobWithTwoResources(5, 1);
    a.send('<presence><priority>0</priority></presence>');
    await a.sync();
    alice.send("<message to='bob@localhost' type='chat'><body>moved</body></message>");
    await b.next(isMessageWithBody('moved'));
    await expectNothingDelivered(a);
  });
});

describe('a session that ends re-routes what it never delivered, so nothing is lost silently (XEP-0206 §7, RFC 6121 §8.5.3.2)', () => {
  /** Alice sends `stanzas` to bob/desk; they sit in bob's output as the transport's undelivered queue. */
  async function undeliveredTo(bob: Client, alice: Client, stanzas: string[]): Promise<Element[]> {
    bob.drain();
    const from = bob.output.sent.length;
    for (const stanza of stanzas) alice.send(stanza);
    await bob.next((e) => e.attrs.id === 'last', 'the last stanza');
    return bob.output.sent.slice(from).filter((e) => e.name !== 'presence');
  }

  it('hands an undelivered chat message to the user’s other available resource', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const desk = await world.login('bob', 'secret', 'desk');
    const laptop = await world.login('bob', 'secret', 'laptop');
    laptop.send('<presence/>');
    await laptop.sync();
    const queued = await undeliveredTo(desk, alice, ["<message to='bob@localhost/desk' type='chat' id='last'><body>lost?</body></message>"]);
    desk.actor.end('inactivity', queued);
    const got = await laptop.next(isMessageWithBody('lost?'));
    expect(got.attrs.from).toBe('alice@localhost/phone');
    await quiesce();
    expect(alice.drain().filter((e) => e.attrs.type === 'error')).toEqual([]);
  });

  it('keeps an undelivered chat message offline when no other resource is available, for the next login', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const desk = await world.login('bob', 'secret', 'desk');
    const queued = await undeliveredTo(desk, alice, ["<message to='bob@localhost/desk' type='chat' id='last'><body>kept</body></message>"]);
    desk.actor.end('inactivity', queued);
    // The ended session has re-routed what it had not delivered (here: to offline storage).
    await world.domain.settle();
    const again = await world.login('bob', 'secret', 'desk');
    again.send('<presence/>');
    await again.next(isMessageWithBody('kept'));
  });

  it('answers the sender of an undelivered iq request with an error, so it is not left waiting (RFC 6120 §8.2.3)', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const desk = await world.login('bob', 'secret', 'desk');
    const queued = await undeliveredTo(desk, alice, ["<iq to='bob@localhost/desk' type='get' id='last'><query xmlns='urn:example:q'/></iq>"]);
    expect(queued).toHaveLength(1);
    desk.actor.end('terminate', queued);
    const answer = await alice.next((e) => e.name === 'iq' && e.attrs.id === 'last');
    expect(answer.attrs.type).toBe('error');
    expect(['service-unavailable', 'recipient-unavailable']).toContain(stanzaErrorOf(answer).condition);
  });

  it('answers the sender of an undelivered message with an error when it can be neither delivered nor stored', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' }, { offlinePerUser: 0 });
    const alice = await world.login('alice', 'secret', 'phone');
    const desk = await world.login('bob', 'secret', 'desk');
    const queued = await undeliveredTo(desk, alice, ["<message to='bob@localhost/desk' type='chat' id='last'><body>bounce</body></message>"]);
    desk.actor.end('inactivity', queued);
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(bounced.attrs.id).toBe('last');
  });

  it('re-routes neither errors nor iq results, and sends nothing more on the ended stream', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    const desk = await world.login('bob', 'secret', 'desk');
    const queued = await undeliveredTo(desk, alice, [
      "<message to='bob@localhost/desk' type='error' id='e1'><error type='cancel'/></message>",
      "<iq to='bob@localhost/desk' type='result' id='last'/>",
    ]);
    expect(queued).toHaveLength(2);
    const sentBeforeEnd = desk.output.sent.length;
    desk.actor.end('inactivity', queued);
    await quiesce();
    expect(alice.drain()).toEqual([]);
    expect(desk.output.sent.length).toBe(sentBeforeEnd);
  });

  it('unbinds the ended session, so later messages to its full JID never reach it', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' }, { offlinePerUser: 0 });
    const alice = await world.login('alice', 'secret', 'phone');
    const bob = await world.login('bob', 'secret', 'desk');
    bob.actor.end('terminate', []);
    expect(world.router.find('bob@localhost', 'desk')).toBeUndefined();
    alice.send("<message to='bob@localhost/desk' type='chat' id='late'><body>late</body></message>");
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error');
    expect(stanzaErrorOf(bounced).condition).toBe('service-unavailable');
    await quiesce();
    expect(bob.drain().filter((e) => e.name === 'message')).toEqual([]);
  });
});

describe('an oversized stanza refused by the transport (RFC 6120 §8.3.3.12 policy-violation)', () => {
  it('answers a bound client with a policy-violation stanza error and keeps the session', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.actor.refuse(xml(`<message to='bob@localhost' id='big'><body>${'x'.repeat(100)}</body></message>`), 'too-big');
    const answer = await alice.next((e) => e.attrs.id === 'big');
    expect(answer.attrs).toMatchObject({ type: 'error', to: 'alice@localhost/phone' });
    expect(stanzaErrorOf(answer)).toEqual({ type: 'modify', condition: 'policy-violation' });
    expect(alice.output.closed).toBe(false);
    expect((await alice.iq(`<iq type='get' id='after'>${PING}</iq>`)).attrs.type).toBe('result');
  });

  it('closes a stream that is not yet bound with a policy-violation stream error (RFC 6120 §4.9.3.14)', async () => {
    const world = await World.with({ alice: 'secret' });
    const client = world.open();
    await client.next();
    client.actor.refuse(xml(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${'A'.repeat(100)}</auth>`), 'too-big');
    expect(client.output.streamErrorCondition).toBe('policy-violation');
  });
});

describe('only stanzas in jabber:client are accepted after binding (RFC 6120 §4.9.3.24, §4.9.3.10)', () => {
  it('closes the stream with unsupported-stanza-type for an element that is not a stanza', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<foo xmlns='jabber:client'/>");
    expect(alice.output.streamErrorCondition).toBe('unsupported-stanza-type');
  });

  it('closes the stream with invalid-namespace for a stanza in another namespace', async () => {
    const world = await World.with({ alice: 'secret' });
    const alice = await world.login('alice', 'secret', 'phone');
    alice.send("<message xmlns='jabber:server' to='alice@localhost'><body>x</body></message>");
    expect(alice.output.streamErrorCondition).toBe('invalid-namespace');
  });
});

describe('a session that ends with messages still in its mailbox (RFC 6120 §4.4)', () => {
  it('still routes the messages its client sent and the transport acknowledged before the end', async () => {
    const world = await World.with({ alice: 'secret', bob: 'secret' });
    const bob = await world.login('bob', 'secret', 'desk');
    const alice = await world.login('alice', 'secret', 'phone');
    // The first message keeps the actor busy (routing is asynchronous); the others wait in its mailbox.
    for (const n of [1, 2, 3]) alice.send(`<message to='bob@localhost/desk' type='chat' id='m${n}'><body>before the end ${n}</body></message>`);
    alice.actor.end('shutdown', []);
    for (const n of [1, 2, 3]) await bob.next(isMessageWithBody(`before the end ${n}`), `message ${n}`);
  });
});
