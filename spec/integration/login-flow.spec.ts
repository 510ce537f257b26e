import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { bodyOf, BoshClient, NS_BIND, NS_SASL, terminalCondition } from './support/bosh-client';

/** Raw BOSH bodies against the real HTTP server (XEP-0124, XEP-0206, RFC 6120). */

let node: RunningNode;

beforeAll(async () => {
  node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:secret,bob:secret', LOG_LEVEL: 'silent', BOSH_MAX_WAIT: '2' }));
});

afterAll(async () => {
  await node.close();
});

/** Waits until the server holds `count` requests of the session (so a message is known to meet a held request). */
async function heldRequests(sid: string, count: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while ((node.transport.session(sid)?.heldCount ?? -1) < count) {
    if (Date.now() > deadline) throw new Error(`session ${sid} never held ${count} request(s)`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('a full login over BOSH with SASL PLAIN (XEP-0206 §3-§5, RFC 6120 §6-§7)', () => {
  const client = () => new BoshClient(node.url);

  it('creates a session whose response carries the negotiated attributes and the SASL features (XEP-0124 §7.2, XEP-0206 §3)', async () => {
    const alice = client();
    const answer = await alice.create();
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/xml/);
    const body = bodyOf(answer);
    expect(body.attrs.sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.attrs).toMatchObject({ wait: '2', hold: '1', requests: '2', from: 'localhost', 'xmpp:version': '1.0', 'xmpp:restartlogic': 'true' });
    expect(body.attrs.authid).toBeTruthy();
    expect(body.attrs.ver).toBe('1.6');
    const features = body.children.find((c): c is Element => typeof c !== 'string' && c.name === 'stream:features');
    expect(
      features
        ?.getChild('mechanisms', NS_SASL)
        ?.getChildren('mechanism')
        .map((m) => m.getText()),
    ).toContain('PLAIN');
  });

  it('walks create, PLAIN, restart, bind, session and ping, each step answered as the RFCs say', async () => {
    const alice = client();
    await alice.create();

    const success = await alice.expect(
      `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`,
      (e) => e.attrs.xmlns === NS_SASL,
    );
    expect(success.name).toBe('success'); // RFC 6120 §6.4.6

    const features = await alice.restart(); // XEP-0206 §5
    expect(features.getChild('bind', NS_BIND)).toBeDefined();
    expect(features.getChild('mechanisms', NS_SASL)).toBeUndefined();

    const bound = await alice.iq(`<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='${NS_BIND}'><resource>web</resource></bind></iq>`);
    expect(bound.attrs.type).toBe('result'); // RFC 6120 §7.7.1
    expect(bound.getChild('bind', NS_BIND)?.getChildText('jid')).toBe('alice@localhost/web');

    const session = await alice.iq(`<iq type='set' id='s1' xmlns='jabber:client'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
    expect(session.attrs.type).toBe('result'); // RFC 3921 §3

    const pong = await alice.iq(`<iq type='get' id='p1' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(pong.attrs).toMatchObject({ type: 'result', from: 'localhost', to: 'alice@localhost/web' }); // XEP-0199 §4.2
  });

  it('refuses a wrong password with a SASL failure inside a normal response, keeping the session (RFC 6120 §6.4.5)', async () => {
    const alice = client();
    await alice.create();
    const failure = await alice.expect(
      `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0alice\0wrong').toString('base64')}</auth>`,
      (e) => e.attrs.xmlns === NS_SASL,
    );
    expect(failure.name).toBe('failure');
    expect(failure.getChild('not-authorized')).toBeDefined();
    const retry = await alice.expect(
      `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`,
      (e) => e.attrs.xmlns === NS_SASL,
    );
    expect(retry.name).toBe('success');
  });

  it('ends the session on a terminate request, after which its sid is unknown (XEP-0124 §13, §17.2)', async () => {
    const alice = await client().loginPlain('alice', 'secret', 'bye');
    const answer = await alice.send("<presence type='unavailable' xmlns='jabber:client'/>", "type='terminate'");
    expect(bodyOf(answer).attrs.type).toBe('terminate');
    expect(terminalCondition(await alice.send())).toBe('item-not-found');
  });
});

describe('a full login over BOSH with SCRAM-SHA-1 computed by the client (RFC 5802 §5, RFC 6120 §6.4.3)', () => {
  it('logs in over challenge and response, and the server proves it knows the password with v=', async () => {
    const alice = new BoshClient(node.url);
    await alice.create();
    const { client, success } = await alice.scram('sha1', 'alice', 'secret');
    expect(success.name).toBe('success');
    expect(client.verify(Buffer.from(success.getText(), 'base64').toString('utf8'))).toBe(true);
    await alice.restart();
    await alice.bindAndStart('scram');
    expect(alice.jid).toBe('alice@localhost/scram');
    expect((await alice.ping()).attrs.type).toBe('result');
  });

  it('refuses a SCRAM-SHA-1 proof made from a wrong password', async () => {
    const alice = new BoshClient(node.url);
    await alice.create();
    const { success } = await alice.scram('sha1', 'alice', 'not-secret');
    expect(success.name).toBe('failure');
    expect(success.getChild('not-authorized')).toBeDefined();
  });

  it('logs in with SCRAM-SHA-256 as well (RFC 7677 §3)', async () => {
    const bob = new BoshClient(node.url);
    await bob.create();
    const { client, success } = await bob.scram('sha256', 'bob', 'secret');
    expect(success.name).toBe('success');
    expect(client.verify(Buffer.from(success.getText(), 'base64').toString('utf8'))).toBe(true);
  });
});

describe('two users chatting: a message is answered on the recipient’s held request (XEP-0124 §8, RFC 6121 §8.5)', () => {
  it('delivers alice’s message on bob’s held request, and bob’s reply on alice’s', async () => {
    const alice = await new BoshClient(node.url).loginPlain('alice', 'secret', 'chat');
    const bob = await new BoshClient(node.url).loginPlain('bob', 'secret', 'chat');
    // Initial presence makes both available for messages to their bare JIDs (RFC 6121 §4.2); the ping gets the request answered.
    await bob.expect(
      `<presence xmlns='jabber:client'/><iq type='get' id='bp' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`,
      (e) => e.name === 'iq',
    );
    await alice.expect(
      `<presence xmlns='jabber:client'/><iq type='get' id='ap' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`,
      (e) => e.name === 'iq',
    );

    const bobHeld = bob.send();
    await heldRequests(bob.sid, 1);
    const aliceSent = alice.send(
      `<message to='bob@localhost' type='chat' id='hello' xmlns='jabber:client'><body>Hi Bob</body></message>` +
        `<iq type='get' id='ap2' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`,
    );
    // Had wait (2 s) run out first, the held request would have been answered empty, without the message.
    const message = bodyOf(await bobHeld).getChild('message') as Element;
    expect(message.attrs).toMatchObject({ from: 'alice@localhost/chat', to: 'bob@localhost', type: 'chat', id: 'hello' });
    expect(message.getChildText('body')).toBe('Hi Bob');
    await aliceSent;

    const aliceHeld = alice.send();
    await heldRequests(alice.sid, 1);
    await bob.expect(
      `<message to='alice@localhost/chat' type='chat' xmlns='jabber:client'><body>Hi Alice</body></message>` +
        `<iq type='get' id='bp2' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`,
      (e) => e.name === 'iq',
    );
    const reply = bodyOf(await aliceHeld).getChild('message') as Element;
    expect(reply.attrs.from).toBe('bob@localhost/chat');
    expect(reply.getChildText('body')).toBe('Hi Alice');

    await alice.send('', "type='terminate'");
    await bob.send('', "type='terminate'");
  });

  it('answers a message to a user that does not exist with service-unavailable in the sender’s next response (RFC 6121 §8.5.1)', async () => {
    const alice = await new BoshClient(node.url).loginPlain('alice', 'secret', 'lonely');
    const payloads = await alice.exchange(`<message to='nobody@localhost' type='chat' id='nobody-home' xmlns='jabber:client'><body>?</body></message>`);
    const bounced = payloads.find((e) => e.name === 'message');
    expect(bounced?.attrs).toMatchObject({ type: 'error', id: 'nobody-home', from: 'nobody@localhost', to: 'alice@localhost/lonely' });
    expect(bounced?.getChild('error')?.getChild('service-unavailable')).toBeDefined();
  });
});
