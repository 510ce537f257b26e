/**
 * End-to-end: a real Strophe.js 5 client (its Node build, BOSH transport)
 * against a gateway node started in-process with startNode().
 *
 * Strophe's Node build has no XMLHttpRequest; spec/e2e/support/xhr.ts provides
 * one over node:http (keep-alive agent, browser-like readyState semantics) and
 * is installed by spec/e2e/support/strophe-client.ts before any connection is
 * made. Every assertion failure about the protocol prints the client's BOSH
 * traffic (StropheClient.dump()).
 *
 * Spec references: XEP-0124 (BOSH) §7 session creation, §8 payloads,
 * §10 inactivity, §13 terminate, §14 request ids, §17 error conditions;
 * XEP-0206 (XMPP over BOSH) session creation + xmpp:restart; RFC 6120 §6 SASL,
 * §7 resource binding, §8 stanzas; RFC 6121 §4.2 / §8.5 presence and message
 * delivery; XEP-0199 ping.
 */
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import {
  Strophe,
  StropheClient,
  $iq,
  bodyOf,
  destroyXhrAgents,
  errorOf,
  NS_SASL,
  NS_STANZAS,
  type ConnectionOptions,
  type StatusEvent,
  type XmlElement,
} from './support/strophe-client';
import { postXml } from './support/raw-http';
import { until } from './support/until';

const ALICE = `alice@${TEST_DOMAIN}`;
const BOB = `bob@${TEST_DOMAIN}`;
const FULL_JID = (user: string): RegExp => new RegExp(`^${user}@${TEST_DOMAIN.replace(/\./g, '\\.')}/[^/]+$`);
const bare = (jid: string): string => jid.split('/')[0]!;

let gateway: RunningGateway;
const clients: StropheClient[] = [];

function newClient(label: string, options: ConnectionOptions = {}): StropheClient {
  const c = new StropheClient(label, gateway.boshUrl, options);
  clients.push(c);
  return c;
}

async function loggedIn(label: string, jid: string, options: ConnectionOptions = {}): Promise<StropheClient> {
  const c = newClient(label, options);
  await c.login(jid, TEST_PASSWORD);
  return c;
}

/** The gateway holds the session's one request and has nothing queued for it (XEP-0124 §8). */
function heldByGateway(sid: string): boolean {
  const session = gateway.transport.session(sid);
  return session?.heldCount === 1 && session.queuedCount === 0;
}

/** Wrap an expectation block so a failure also shows the clients' BOSH traffic. */
async function withTraffic<T>(cs: StropheClient[], fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    e.message = `${e.message}\n\n${cs.map((c) => c.dump()).join('\n\n')}`;
    throw e;
  }
}

beforeAll(async () => {
  gateway = await startGateway();
});

afterAll(async () => {
  // Clients first (graceful terminate), then the pooled keep-alive sockets,
  // then the gateway: nothing may be left for jest to wait on.
  await Promise.all(clients.map((c) => c.close()));
  destroyXhrAgents();
  await gateway?.close();
});

describe('Strophe.js 5 (Node, BOSH) against the gateway', () => {
  it('startNode() exposes the BOSH endpoint under BOSH_PATH', () => {
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.boshUrl).toBe(`${gateway.url}/http-bind`);
  });

  describe('login (XEP-0206 session creation, RFC 6120 §6 SASL, §7 resource binding)', () => {
    it('(a) default mechanism selection picks SCRAM-SHA-256 and reaches CONNECTED with a full JID alice@localhost/<resource>', async () => {
      const alice = await loggedIn('alice', ALICE);
      await withTraffic([alice], () => {
        // (Strophe reports AUTHENTICATING only for legacy non-SASL auth.)
        const seen = alice.statuses.map((s) => s.status);
        expect(seen[0]).toBe('CONNECTING');
        expect(seen[seen.length - 1]).toBe('CONNECTED');
        expect(seen.filter((s) => !['CONNECTING', 'AUTHENTICATING', 'CONNECTED'].includes(s))).toEqual([]);
        // RFC 6120 §7.6: the server generates the resource when the client asks for none.
        expect(alice.jid).toMatch(FULL_JID('alice'));

        // RFC 6120 §6.4.1: the mechanisms offered in the pre-auth stream features.
        const { offered, chosen } = alice.saslNegotiation();
        expect(offered).toEqual(expect.arrayContaining(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']));
        // Strophe picks the strongest offered mechanism it supports. Reaching
        // CONNECTED also means the server's SCRAM signature verified
        // (RFC 5802 §5.1 'v=', checked by Strophe in _sasl_success_cb).
        expect(chosen).toBe('SCRAM-SHA-256');

        // XEP-0124 §7.2: a sid, and a 'wait' no longer than the 60 s Strophe asked for.
        const proto = alice.internals._proto as unknown as { sid: string; wait: number; hold: number };
        expect(proto.sid).toEqual(expect.any(String));
        expect(proto.sid.length).toBeGreaterThan(0);
        expect(proto.wait).toBeGreaterThan(0);
        expect(proto.wait).toBeLessThanOrEqual(60);
        expect(proto.hold).toBe(1);
      });
      await alice.disconnect();
    });

    it.each([
      ['PLAIN', Strophe.SASLPlain],
      ['SCRAM-SHA-1', Strophe.SASLSHA1],
    ])('(b) login forcing %s works (RFC 6120 §6.4)', async (mechanism, Mechanism) => {
      const bob = await loggedIn(`bob/${mechanism}`, BOB, { mechanisms: [Mechanism] });
      await withTraffic([bob], () => {
        expect(bob.saslNegotiation().chosen).toBe(mechanism);
        expect(bob.jid).toMatch(FULL_JID('bob'));
      });
      await bob.disconnect();
    });

    it.each<[string, string, string, ConnectionOptions]>([
      ['a wrong password (default mechanism, SCRAM-SHA-256)', ALICE, 'not-the-password', {}],
      ['a wrong password (PLAIN)', ALICE, 'not-the-password', { mechanisms: [Strophe.SASLPlain] }],
      ['an unknown user (default mechanism, SCRAM-SHA-256)', `mallory@${TEST_DOMAIN}`, TEST_PASSWORD, {}],
      ['an unknown user (PLAIN)', `mallory@${TEST_DOMAIN}`, TEST_PASSWORD, { mechanisms: [Strophe.SASLPlain] }],
    ])('(c) %s gives AUTHFAIL with <not-authorized/> (RFC 6120 §6.4.5, §6.5.10)', async (_what, jid, password, options) => {
      const c = newClient(`authfail ${jid}`, options);
      const ev: StatusEvent = await c.attemptLogin(jid, password);
      await withTraffic([c], () => {
        expect(ev.status).toBe('AUTHFAIL');
        expect(c.statuses.map((s) => s.status)).not.toContain('CONNECTED');
        const failure = ev.elem;
        expect(failure?.localName).toBe('failure');
        expect(failure?.namespaceURI).toBe(NS_SASL);
        const conditions: string[] = [];
        for (let n = failure?.firstChild; n; n = n.nextSibling) {
          if (n.nodeType === 1) conditions.push((n as XmlElement).localName ?? '');
        }
        expect(conditions).toContain('not-authorized');
      });
      // Whatever the server did with the stream after the failure, the client
      // must be able to finish cleanly.
      await c.disconnect();
      expect(c.statuses[c.statuses.length - 1]?.status).toBe('DISCONNECTED');
    });
  });

  describe('iq to the server (RFC 6120 §8.2.3: every get/set gets a result or an error)', () => {
    let alice: StropheClient;

    beforeAll(async () => {
      alice = await loggedIn('alice/iq', ALICE);
    });

    afterAll(async () => {
      await alice?.close();
    });

    it('(d) XEP-0199 ping to the server domain gets an empty result from the domain (XEP-0199 §4.2, RFC 6120 §8.1.2.1)', async () => {
      const res = await alice.ping(TEST_DOMAIN);
      await withTraffic([alice], () => {
        expect(res.getAttribute('type')).toBe('result');
        expect(res.getAttribute('from')).toBe(TEST_DOMAIN);
        expect(res.firstChild).toBeNull();
      });
    });

    it.each(['get', 'set'])('(e) an iq %s the server does not understand gets a cancel/service-unavailable error (RFC 6120 §8.4, §8.3.3.19)', async (type) => {
      const res = await alice.iq($iq({ type, to: TEST_DOMAIN }).c('query', { xmlns: 'urn:example:e2e:unknown' }));
      await withTraffic([alice], () => {
        expect(res.getAttribute('type')).toBe('error');
        expect(res.getAttribute('from')).toBe(TEST_DOMAIN);
        expect(errorOf(res)).toEqual({ type: 'cancel', condition: 'service-unavailable', ns: NS_STANZAS });
      });
    });
  });

  describe('(f) two users chat (RFC 6121 §4.2 initial presence, §8.5 message delivery; RFC 6120 §8.1.2.1 from stamping)', () => {
    let alice: StropheClient;
    let bob: StropheClient;

    beforeAll(async () => {
      [alice, bob] = await Promise.all([loggedIn('alice/chat', ALICE), loggedIn('bob/chat', BOB)]);
      await Promise.all([alice.becomeAvailable(), bob.becomeAvailable()]);
    });

    afterAll(async () => {
      await Promise.all([alice?.close(), bob?.close()]);
    });

    it("alice → bob's full JID, then bob's bare JID; bob sees alice's full JID in 'from'; bob's reply reaches alice", async () => {
      await withTraffic([alice, bob], async () => {
        alice.sendChat(bob.jid, 'hello full jid');
        const m1 = await bob.waitForChat('hello full jid');
        expect(m1.getAttribute('from')).toBe(alice.jid);
        expect(m1.getAttribute('type')).toBe('chat');
        expect(bare(m1.getAttribute('to') ?? '')).toBe(BOB);

        // RFC 6121 §8.5.2.1.1: to a bare JID, delivered to the available resource(s).
        alice.sendChat(BOB, 'hello bare jid');
        const m2 = await bob.waitForChat('hello bare jid');
        expect(m2.getAttribute('from')).toBe(alice.jid);
        expect(bodyOf(m2)).toBe('hello bare jid');

        bob.sendChat(m1.getAttribute('from')!, 'hi alice');
        const reply = await alice.waitForChat('hi alice');
        expect(reply.getAttribute('from')).toBe(bob.jid);
        expect(bare(reply.getAttribute('to') ?? '')).toBe(ALICE);

        // Nothing was echoed back to the sender.
        expect(alice.inbox.filter((s) => s.nodeName === 'message' && bodyOf(s) !== 'hi alice')).toEqual([]);
      });
    });

    it('bodies with non-ASCII and XML-special characters arrive unchanged (XEP-0124 §5 UTF-8 bodies)', async () => {
      const text = 'h\u00e9llo <b>&amp;</b> "q" \'a\' \u{1F600} \u4f60\u597d';
      await withTraffic([alice, bob], async () => {
        alice.sendChat(bob.jid, text);
        const m = await bob.waitForChat(text);
        expect(m.getAttribute('from')).toBe(alice.jid);
      });
    });

    it('several messages sent back to back arrive once each, in order (XEP-0124 §14.2 in-order forwarding)', async () => {
      const bodies = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
      await withTraffic([alice, bob], async () => {
        for (const b of bodies) alice.sendChat(bob.jid, b);
        await bob.waitForChat(bodies[bodies.length - 1]!);
        const got = bob.inbox.map((s) => bodyOf(s)).filter((b): b is string => !!b && b.startsWith('burst '));
        expect(got).toEqual(bodies);
      });
    });
  });

  describe('(g) disconnect() (XEP-0124 §13 terminate)', () => {
    it('goes DISCONNECTING → DISCONNECTED without errors, and the sid is dead afterwards (XEP-0124 §17.2 item-not-found)', async () => {
      const alice = await loggedIn('alice/disconnect', ALICE);
      const { sid, rid } = alice.session();
      const events = await alice.disconnect();
      await withTraffic([alice], async () => {
        expect(events.map((e) => e.status)).toEqual(['DISCONNECTING', 'DISCONNECTED']);
        // The terminate request carried unavailable presence and was answered.
        const sent = alice.traffic.filter((l) => l.includes(' SENT '));
        expect(sent[sent.length - 1]).toMatch(/type=["']terminate["']/);
        expect(sent[sent.length - 1]).toMatch(/<presence[^>]*type=["']unavailable["']/);

        // XEP-0124 §17.2: a request on a terminated session is answered with
        // item-not-found (HTTP 404 from legacy connection managers, §17.1).
        const stale = await postXml(gateway.boshUrl, `<body xmlns='http://jabber.org/protocol/httpbind' sid='${sid}' rid='${rid + 1}'/>`);
        if (stale.status === 200) {
          expect(stale.body).toMatch(/type=["']terminate["']/);
          expect(stale.body).toMatch(/condition=["']item-not-found["']/);
        } else {
          expect(stale.status).toBe(404);
        }
      });
    });
  });

  describe('(h) page reload: resuming a live BOSH session from a new Strophe.Connection (XEP-0124 §14 rid continuity)', () => {
    let bob: StropheClient;

    beforeAll(async () => {
      bob = await loggedIn('bob/reload', BOB);
      await bob.becomeAvailable();
    });

    afterAll(async () => {
      await bob?.close();
    });

    it('attach(jid, sid, rid) with the captured session can ping and receive a chat', async () => {
      const alice = await loggedIn('alice/before-reload', ALICE);
      await alice.becomeAvailable();
      await alice.quiesce(heldByGateway);
      const session = alice.session();
      alice.abandon();

      const reloaded = newClient('alice/after-reload (attach)');
      reloaded.conn.attach(session.jid, session.sid, session.rid, reloaded.onStatus);
      await withTraffic([alice, reloaded, bob], async () => {
        expect((await reloaded.waitForStatus(['ATTACHED'], 1_000)).status).toBe('ATTACHED');
        expect(reloaded.jid).toBe(session.jid);

        const pong = await reloaded.ping(TEST_DOMAIN);
        expect(pong.getAttribute('type')).toBe('result');

        bob.sendChat(session.jid, 'are you still there?');
        const m = await reloaded.waitForChat('are you still there?');
        expect(m.getAttribute('from')).toBe(bob.jid);

        // The resumed session is a normal one: it can chat back and end cleanly.
        reloaded.sendChat(bob.jid, 'yes, after a reload');
        expect((await bob.waitForChat('yes, after a reload')).getAttribute('from')).toBe(session.jid);
        const events = await reloaded.disconnect();
        expect(events.map((e) => e.status)).toEqual(['DISCONNECTING', 'DISCONNECTED']);
      });
    });

    it('a chat sent while the tab is gone is delivered once the page attaches again (XEP-0124 §8: the aborted long poll cannot carry it)', async () => {
      const alice = await loggedIn('alice/gone', ALICE);
      await alice.becomeAvailable();
      await alice.quiesce(heldByGateway);
      const session = alice.session();
      alice.abandon();
      // The gateway has seen the held request's connection close: no request of alice's is open
      // when bob sends, and the message waits in her session for its next request.
      const held = () => gateway.transport.session(session.sid)?.heldCount ?? -1;
      await until('alice’s held request dropped', () => held() === 0);
      bob.sendChat(session.jid, 'sent during the reload');
      await until('the message queued in alice’s session', () => (gateway.transport.session(session.sid)?.queuedCount ?? 0) > 0);
      expect(held()).toBe(0);

      const reloaded = newClient('alice/back');
      reloaded.conn.attach(session.jid, session.sid, session.rid, reloaded.onStatus);
      await withTraffic([alice, reloaded, bob], async () => {
        const m = await reloaded.waitForChat('sent during the reload');
        expect(m.getAttribute('from')).toBe(bob.jid);
        await reloaded.disconnect();
      });
    });

    it("keepalive: true + restore() (Strophe's own reload support via sessionStorage) resumes the session", async () => {
      const alice = await loggedIn('alice/keepalive', ALICE, { keepalive: true });
      await alice.becomeAvailable();
      await alice.quiesce(heldByGateway);
      const jid = alice.jid;
      alice.abandon();

      const stored = JSON.parse(
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('strophe-bosh-session') ?? 'null',
      ) as { jid: string; sid: string; rid: number } | null;
      expect(stored).toMatchObject({ jid, sid: alice.session().sid });

      const restored = newClient('alice/after-reload (restore)', { keepalive: true });
      restored.conn.restore(ALICE, restored.onStatus);
      await withTraffic([alice, restored, bob], async () => {
        expect((await restored.waitForStatus(['ATTACHED'], 1_000)).status).toBe('ATTACHED');
        expect(restored.jid).toBe(jid);

        expect((await restored.ping(TEST_DOMAIN)).getAttribute('type')).toBe('result');

        // The presence sent before the reload still makes the resource available.
        bob.sendChat(ALICE, 'to your bare jid, after the reload');
        const m = await restored.waitForChat('to your bare jid, after the reload');
        expect(m.getAttribute('from')).toBe(bob.jid);

        const events = await restored.disconnect();
        expect(events.map((e) => e.status)).toEqual(['DISCONNECTING', 'DISCONNECTED']);
      });
    });
  });
});
