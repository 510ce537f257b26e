/**
 * What a StanzaJS 12 user does, as one `describe` that runs wherever the gateway is: against one
 * node (spec/e2e/stanza-node.spec.ts) and through nginx in front of the cluster
 * (spec/e2e/cluster-clients.spec.ts). The other party is a Strophe.js client.
 *
 * Every wait is for an event, bounded by `boundMs`, far below the `wait` StanzaJS asks for (30 s):
 * a message that only gets through when a held request times out fails the test instead of
 * passing slowly.
 */
import { $iq, $pres, StropheClient, bodyOf, type XmlElement } from './strophe-client';
import { StanzaClient } from './stanza-client';

export interface StanzaScenarioSetup {
  /** The BOSH URL the clients use (read when the suite starts). */
  boshUrl(): string;
  readonly domain: string;
  readonly password: string;
  /** The StanzaJS user and the Strophe.js user (accounts that no other suite in the file touches). */
  readonly stanzaUser: string;
  readonly stropheUser: string;
  /** Extra evidence for failure messages (e.g. nginx's access log). */
  evidence?(): string;
}

const BOUND_MS = 3_000;
const NS_ROSTER = 'jabber:iq:roster';

export function describeStanzaJsOverBosh(where: string, setup: StanzaScenarioSetup): void {
  const stanzaJid = `${setup.stanzaUser}@${setup.domain}`;
  const stropheJid = `${setup.stropheUser}@${setup.domain}`;

  describe(`StanzaJS 12 (Node, BOSH) ${where}, with a Strophe.js user`, () => {
    let alice: StanzaClient;
    let bob: StropheClient;

    /** On failure, both clients' traffic and the setup's own evidence. */
    async function withEvidence(fn: () => Promise<void>): Promise<void> {
      try {
        await fn();
      } catch (err) {
        const e = err as Error;
        e.message = `${e.message}\n\n${alice?.dump(20) ?? ''}\n\n${bob?.dump(20) ?? ''}\n\n${setup.evidence?.() ?? ''}`;
        throw e;
      }
    }

    beforeAll(async () => {
      bob = new StropheClient(`${setup.stropheUser} (Strophe.js)`, setup.boshUrl());
      await bob.login(stropheJid, setup.password, 15_000);
      // RFC 6121 §2.1.3: an interested resource gets subscription requests and roster pushes.
      await bob.iq($iq({ type: 'get' }).c('query', { xmlns: NS_ROSTER }));
      await bob.becomeAvailable();
    }, 30_000);

    afterAll(async () => {
      await alice?.stop().catch(() => undefined);
      await bob?.close();
    }, 20_000);

    it('logs in over BOSH with transports: { websocket: false, bosh: url }; asked hold=2, it is granted hold=1 (one channel stays free for sending)', async () => {
      await withEvidence(async () => {
        alice = new StanzaClient(`${setup.stanzaUser} (StanzaJS)`, setup.boshUrl(), stanzaJid, setup.password);
        const jid = await alice.start(15_000);
        expect(jid).toMatch(new RegExp(`^${stanzaJid}/.+`));
        // XEP-0124 §7.1: the session request StanzaJS made, with the attributes it chose itself.
        const create = alice.raw.find((l) => l.includes(' SENT '))!;
        expect(create).toMatch(/\bwait="30"/);
        expect(create).toMatch(/\bhold="2"/);
        // §7.2: the gateway lowers hold to 1 and grants one more request than that.
        const granted = alice.raw.find((l) => l.includes(' RECV '))!;
        expect(granted).toMatch(/\bsid=["'][^"']+["']/);
        expect(granted).toMatch(/\bwait=["']30["']/);
        expect(granted).toMatch(/\bhold=["']1["']/);
        expect(granted).toMatch(/\brequests=["']2["']/);
      });
    }, 30_000);

    it('becomes a mutual contact of the Strophe.js user, and each sees the other’s available presence (RFC 6121 §3.1, §4.2)', async () => {
      await withEvidence(async () => {
        await alice.agent.getRoster();
        alice.agent.sendPresence();
        // §3.1.1: bob asks; StanzaJS approves (§3.1.4) and asks back.
        const mark = bob.inbox.length;
        bob.conn.send($pres({ to: stanzaJid, type: 'subscribe' }));
        await alice.waitFor('subscribe', (p) => String(p.from).split('/')[0] === stropheJid, BOUND_MS, `subscribe from ${stropheJid}`);
        alice.agent.acceptSubscription(stropheJid);
        alice.agent.subscribe(stropheJid);
        await bob.waitForStanza('presence', (p) => bob.inbox.indexOf(p) >= mark && p.getAttribute('type') === 'subscribe', BOUND_MS);
        bob.conn.send($pres({ to: stanzaJid, type: 'subscribed' }));
        // §3.1.5 and §4.2.2: each now has the other's available presence, from the full JID.
        const seenByBob = await bob.waitForStanza('presence', (p) => p.getAttribute('from') === alice.agent.jid && !p.getAttribute('type'), BOUND_MS);
        expect(seenByBob.getAttribute('from')).toBe(alice.agent.jid);
        const seenByAlice = await alice.waitFor('available', (p) => p.from === bob.jid, BOUND_MS, `available presence of ${bob.jid}`);
        expect(seenByAlice.from).toBe(bob.jid);
      });
    }, 30_000);

    it('reads its roster: the Strophe.js user, subscription both (RFC 6121 §2.1.3)', async () => {
      await withEvidence(async () => {
        const roster = await alice.agent.getRoster();
        expect(roster.items.map((i) => [i.jid, i.subscription])).toEqual([[stropheJid, 'both']]);
      });
    }, 30_000);

    it('chats both ways with the Strophe.js user (RFC 6121 §5)', async () => {
      await withEvidence(async () => {
        bob.sendChat(alice.agent.jid, 'hi stanza');
        const incoming = await alice.waitForChat('hi stanza', BOUND_MS);
        expect(incoming.from).toBe(bob.jid);

        alice.agent.sendMessage({ to: bob.jid, type: 'chat', body: 'hi strophe' });
        const reply: XmlElement = await bob.waitForChat('hi strophe', BOUND_MS);
        expect(reply.getAttribute('from')).toBe(alice.agent.jid);
        expect(bodyOf(reply)).toBe('hi strophe');
      });
    }, 30_000);

    it('sends several messages in a row, each sent after the previous arrived: every one arrives at once, none waits for a held request to time out', async () => {
      await withEvidence(async () => {
        for (let i = 1; i <= 8; i++) {
          alice.agent.sendMessage({ to: bob.jid, type: 'chat', body: `one after another ${i}` });
          await bob.waitForChat(`one after another ${i}`, BOUND_MS);
        }
        for (let i = 1; i <= 8; i++) {
          bob.sendChat(alice.agent.jid, `and back ${i}`);
          await alice.waitForChat(`and back ${i}`, BOUND_MS);
        }
      });
    }, 60_000);

    it('sends a burst of messages back to back: all arrive at once and in order (RFC 6120 §10.1)', async () => {
      await withEvidence(async () => {
        const burst = Array.from({ length: 10 }, (_, i) => `burst ${i + 1}`);
        for (const body of burst) alice.agent.sendMessage({ to: bob.jid, type: 'chat', body });
        await bob.waitForChat(burst[burst.length - 1] as string, BOUND_MS);
        const got = bob.inbox.filter((s) => s.nodeName === 'message' && (bodyOf(s) ?? '').startsWith('burst ')).map((s) => bodyOf(s));
        expect(got).toEqual(burst);

        for (const body of burst) bob.sendChat(alice.agent.jid, `${body} back`);
        await alice.waitForChat('burst 10 back', BOUND_MS);
        expect(alice.chatsFrom(stropheJid).filter((b) => b.startsWith('burst '))).toEqual(burst.map((b) => `${b} back`));
        expect(alice.ended).toBeUndefined();
      });
    }, 30_000);

    it('disconnect() ends the BOSH session with type="terminate" (XEP-0124 §13)', async () => {
      await withEvidence(async () => {
        await alice.stop();
        expect(alice.raw.some((l) => l.includes(' SENT ') && /\btype="terminate"/.test(l))).toBe(true);
        // Nothing before the logoff ended the session: the one terminal body is the answer to it.
        expect(alice.raw.filter((l) => l.includes(' RECV ') && /\btype=["']terminate["']/.test(l)).length).toBeLessThanOrEqual(1);
      });
    }, 30_000);
  });
}
