/**
 * End-to-end: the cluster as it is deployed — a real nginx in front of THREE gateway node
 * processes sharing a real redis-server — driven by real Strophe.js 5 clients (Node build, BOSH
 * over the XMLHttpRequest shim in ./support/xhr.ts).
 *
 *   Strophe ──► nginx (round-robin, no stickiness) ──► node A | node B | node C ──► redis-server
 *
 * Every BOSH request may land on any node; a node that does not hold the sid forwards the request
 * to the owner (src/cluster/forwarder.ts). The scenario, one `it` per step, each naming its rule:
 *
 *   1. log in, become mutual contacts, see presence, chat (full and bare JID), offline message;
 *   2. SIGKILL the node holding bob's session: terminal condition for bob, 'unavailable' to his
 *      contacts, his route reaped, messages to him stored offline instead of lost, nginx keeps
 *      serving;
 *   3. restart redis-server: local pings keep working (or fail with a defined error, never hang),
 *      the nodes re-register, and cross-node chat resumes by itself for the existing sessions
 *      (3d, a diagnostic, repeats the chat with fresh logins to tell the two apart);
 *   4. nothing is left running.
 *
 * Choices made here (see the comments at each place):
 *
 *  - A dead upstream: open-source nginx has only passive health checks. The upstream servers get
 *    `max_fails=1 fail_timeout=3s` so that, from the first failed request on, the dead node is
 *    skipped and the two others serve; but nginx would probe the dead address again with a real
 *    client request every 3 s forever (each probe a 502 to some client, not retried because of
 *    `proxy_next_upstream off`). So the test also does what a supervisor (systemd Restart=,
 *    Kubernetes) does: it starts a replacement node on the same port, with a NEW node id — a
 *    restarted process must not reuse the id of a node that has not been reaped yet, or its fresh
 *    heartbeat would make the dead node look alive and its stale sids/routes would never be
 *    cleaned (the default NODE_ID, hostname-pid, changes on every start).
 *
 *  - Redis restart: the test Redis (spec/support/redis-server.ts) keeps nothing on disk, so after
 *    the restart it is EMPTY. This is kept on purpose: the nodes' recovery path (on reconnect:
 *    heartbeat again, re-register every local sid, re-publish every local route) exists for
 *    exactly this case, and with appendonly the step could pass with a broken recovery because
 *    the old keys would still be there (appendfsync everysec would not even guarantee that under
 *    SIGKILL). Nothing is re-created by the test: cross-node chat between two live sessions needs
 *    only what the nodes must re-create themselves. Rosters and offline messages are lost with the
 *    data; no step after the restart relies on them.
 *
 *  - Browsers keep at most 6 connections per host, and the XHR shim's one keep-alive agent does
 *    the same for all clients of this file (they all talk to nginx). Strophe (hold=1) keeps at
 *    most 2 requests open, so at most 3 clients are live at any time.
 *
 * Run: npx jest --runInBand spec/e2e/cluster-nginx.spec.ts
 * Needs /usr/sbin/nginx (Debian package `nginx`) and redis-server; fails, never skips, without.
 */
import { XMLSerializer } from '@xmldom/xmldom';
import Redis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, TestRedis } from '../support/redis-server';
import { NginxLoadBalancer, portAccepts, type AccessEntry } from './support/nginx';
import { ClusterNodeProcess, sumMetric } from './support/node-process';
import { liveMembers, type GroupMember } from './support/process-group';
import { rawRequest, postXml } from './support/raw-http';
import { StropheClient, $iq, $pres, destroyXhrAgents, errorOf, sleep, type StatusEvent, type XmlElement } from './support/strophe-client';

const DOMAIN = 'localhost';
const PASSWORD = 'secret';
const SECRET = 'nginx-e2e-cluster-secret-0123';
const USERS = ['alice', 'bob', 'carol'].map((u) => `${u}:${PASSWORD}`).join(',');
const HEARTBEAT_MS = 500;
const NODE_TTL_MS = 2000;
/** The nodes' default BOSH_MAX_WAIT; Strophe asks for 60 s. */
const BOSH_MAX_WAIT = 60;
const FAIL_TIMEOUT_S = 3;
const NS_DELAY = 'urn:xmpp:delay';
const NS_ROSTER = 'jabber:iq:roster';
/** XEP-0124 §17.2 terminal binding conditions. */
const TERMINAL_CONDITIONS = [
  'bad-request',
  'host-gone',
  'host-unknown',
  'improper-addressing',
  'internal-server-error',
  'item-not-found',
  'other-request',
  'policy-violation',
  'remote-connection-failed',
  'remote-stream-error',
  'see-other-uri',
  'system-shutdown',
  'undefined-condition',
];

const jidOf = (user: string): string => `${user}@${DOMAIN}`;
const bare = (jid: string | null): string => (jid ?? '').split('/')[0] ?? '';

// ---- the running system -------------------------------------------------------------------

let dir: string;
let redis: TestRedis;
let inspect: Redis;
let nginx: NginxLoadBalancer;
/** Every node process ever started (killed ones included), for cleanup and evidence. */
const nodes: ClusterNodeProcess[] = [];
const clients: StropheClient[] = [];
let tornDown = false;

// ---- scenario state shared by the steps ---------------------------------------------------

let alice: StropheClient;
let bob: StropheClient;
let carol: StropheClient;
let aliceNode: string;
let bobNode: string;
/** Step 2: the node killed, bob's full JID and sid on it. */
let deadNode: ClusterNodeProcess | undefined;
let bobOldJid = '';
let bobOldSid = '';
let killedAt = 0;
/** What the run observed (printed with E2E_VERBOSE=1; the failure messages carry the same). */
const observations: Record<string, unknown> = {};

function nodeById(id: string): ClusterNodeProcess {
  const node = nodes.find((n) => n.id === id && n.alive) ?? nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node with id ${id}`);
  return node;
}

function newClient(label: string): StropheClient {
  const client = new StropheClient(label, nginx.boshUrl);
  clients.push(client);
  return client;
}

/** The node holding a client's BOSH session, from the Redis sid registry (bosh:sid:<sid>). */
async function ownerOf(client: StropheClient): Promise<string> {
  const sid = client.session().sid;
  return waitUntil(`bosh:sid:${sid} in Redis`, async () => (await inspect.get(`bosh:sid:${sid}`)) ?? undefined, 3_000);
}

async function requestRoster(client: StropheClient): Promise<XmlElement> {
  const res = await client.iq($iq({ type: 'get' }).c('query', { xmlns: NS_ROSTER }));
  if (res.getAttribute('type') !== 'result') throw new Error(`${client.label}: roster get failed\n${client.dump()}`);
  return res;
}

/**
 * Logs a user in through nginx; with `avoid`, until the session lands on another node than that
 * one (bounded: round-robin makes a repeat unlikely). Then requests the roster (RFC 6121 §2.1.3:
 * an interested resource gets subscription requests and roster pushes) and sends initial presence.
 */
async function online(label: string, user: string, avoid?: string): Promise<{ client: StropheClient; node: string }> {
  const attempts = 6;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const client = newClient(attempt === 1 ? label : `${label}#${attempt}`);
    await client.login(jidOf(user), PASSWORD, 15_000);
    const node = await ownerOf(client);
    if (avoid !== undefined && node === avoid) {
      await client.disconnect();
      continue;
    }
    await requestRoster(client);
    await client.becomeAvailable();
    return { client, node };
  }
  throw new Error(`${label}: ${attempts} logins in a row landed on ${avoid}; nginx is not spreading new sessions`);
}

/** A stanza received at or after inbox position `mark`. */
function stanzaAfter(
  client: StropheClient,
  mark: number,
  name: 'message' | 'presence',
  pred: (el: XmlElement) => boolean,
  timeoutMs = 5_000,
): Promise<XmlElement> {
  return client.waitForStanza(name, (el) => client.inbox.indexOf(el) >= mark && pred(el), timeoutMs);
}

const availableFrom =
  (full: string) =>
  (p: XmlElement): boolean =>
    p.getAttribute('from') === full && !p.getAttribute('type');
const unavailableFrom =
  (full: string) =>
  (p: XmlElement): boolean =>
    p.getAttribute('from') === full && p.getAttribute('type') === 'unavailable';

function delayOf(message: XmlElement): XmlElement | undefined {
  return message.getElementsByTagNameNS(NS_DELAY, 'delay')[0] ?? undefined;
}

/** Bounded polling: resolves with the first truthy value of `probe`. */
async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** On failure, adds what happened: the clients' BOSH traffic, nginx's view, the nodes' warnings. */
async function withEvidence<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    e.message = `${e.message}\n\n${evidence()}`;
    throw e;
  }
}

function evidence(): string {
  const parts: string[] = [];
  for (const c of new Set([alice, bob, carol].filter((x) => x !== undefined))) parts.push(c.dump(25));
  if (nginx) {
    const log = nginx.accessLog().slice(-30);
    parts.push(
      `--- nginx access log (last ${log.length}) ---\n${log
        .map(
          (e) => `${new Date(Number(e.msec) * 1000).toISOString().slice(11, 23)} ${e.upstream || '-'} ${e.status} ${e.method} ${e.uri} ${e.body.slice(0, 160)}`,
        )
        .join('\n')}`,
    );
    const errors = nginx
      .errorLog()
      .trim()
      .split('\n')
      .filter((l) => /\[(error|warn|crit|alert|emerg)\]/.test(l))
      .slice(-10);
    if (errors.length > 0) parts.push(`--- nginx error log ---\n${errors.join('\n')}`);
  }
  for (const node of nodes) {
    const notable = node
      .logRecords()
      .filter((r) => Number(r.level) >= 40 || /reaped|re-registered|reconnected/.test(String(r.msg)))
      .slice(-8)
      .map((r) => JSON.stringify(r));
    parts.push(`--- node ${node.id} :${node.port} (${node.process.exitDescription}) notable log ---\n${notable.join('\n')}`);
  }
  return parts.join('\n\n');
}

function startNode(id: string, port: number): Promise<ClusterNodeProcess> {
  return ClusterNodeProcess.start({
    id,
    port,
    redisUrl: redis.url,
    secret: SECRET,
    users: USERS,
    logDir: dir,
    heartbeatMs: HEARTBEAT_MS,
    nodeTtlMs: NODE_TTL_MS,
  }).then((node) => {
    nodes.push(node);
    return node;
  });
}

/** Kills everything this file started; returns what survived a process-group SIGKILL (should be nothing). */
async function teardown(): Promise<Array<{ what: string; left: GroupMember[] }>> {
  if (tornDown) return [];
  tornDown = true;
  // Clients first: stop their timers and abort their requests (servers are about to vanish).
  for (const c of clients) {
    try {
      if (c.internals.connected) c.abandon();
    } catch {
      // best effort
    }
  }
  destroyXhrAgents();
  inspect?.disconnect();
  const leftovers: Array<{ what: string; left: GroupMember[] }> = [];
  if (nginx) leftovers.push({ what: 'nginx', left: await nginx.stop() });
  for (const node of nodes) leftovers.push({ what: `node ${node.id}`, left: await node.kill() });
  await redis?.stop();
  return leftovers.filter((l) => l.left.length > 0);
}

// ---- setup --------------------------------------------------------------------------------

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bosh-nginx-e2e-'));
  redis = await TestRedis.start();
  inspect = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 500) });
  inspect.on('error', () => undefined);
  const [p1, p2, p3, pn] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await Promise.all([startNode('node-a', p1), startNode('node-b', p2), startNode('node-c', p3)]);
  nginx = await NginxLoadBalancer.start({
    dir: join(dir, 'nginx'),
    port: pn,
    upstreamPorts: [p1, p2, p3],
    boshMaxWaitSeconds: BOSH_MAX_WAIT,
    maxFails: 1,
    failTimeoutSeconds: FAIL_TIMEOUT_S,
  });
  // Through nginx to a node: the whole chain is up.
  await waitUntil('GET /healthz through nginx', async () => (await rawRequest(`${nginx.url}/healthz`, 'GET')).status === 200, 5_000);
}, 60_000);

afterAll(async () => {
  if (process.env.E2E_VERBOSE) console.log(`observations: ${JSON.stringify(observations, null, 2)}`);
  const left = await teardown();
  // Logs and nginx files are kept only on request (the failure messages carry the evidence).
  if (dir && !process.env.E2E_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`processes left after SIGKILL of their groups: ${JSON.stringify(left)}`);
}, 30_000);

// ---- the scenario -------------------------------------------------------------------------

describe('cluster of three nodes behind real nginx (round-robin, no stickiness), driven by Strophe.js', () => {
  describe('1. normal operation', () => {
    it('1a. alice, bob and carol log in through nginx; their requests are served by more than one node (no stickiness: any node answers any sid, forwarding to the owner)', async () => {
      await withEvidence(async () => {
        ({ client: alice, node: aliceNode } = await online('alice', 'alice'));
        // bob must live on another node than alice: step 2 kills bob's node, step 3 needs them apart.
        ({ client: bob, node: bobNode } = await online('bob', 'bob', aliceNode));
        ({ client: carol } = await online('carol', 'carol'));
        expect(alice.jid).toMatch(/^alice@localhost\/.+/);
        expect(bob.jid).toMatch(/^bob@localhost\/.+/);
        expect(bobNode).not.toBe(aliceNode);

        const counts = await Promise.all(
          nodes.map(async (n) => {
            const text = await n.metricsText();
            return { node: n.id, requests: sumMetric(text, 'bosh_requests_total'), forwarded: sumMetric(text, 'cluster_forwards_seconds_count') };
          }),
        );
        const serving = counts.filter((c) => c.requests > 0).length;
        const forwarded = counts.reduce((sum, c) => sum + c.forwarded, 0);
        // Metrics: more than one node answered BOSH requests, and some requests reached a node
        // that does not hold their session (forwarded to the owner): nginx is not sticky.
        expect({ counts, moreThanOneNode: serving > 1, someForwarded: forwarded > 0 }).toEqual({ counts, moreThanOneNode: true, someForwarded: true });
        // nginx's own view: BOSH requests went to more than one upstream.
        const upstreams = new Set(
          nginx
            .accessLog()
            .filter((e) => e.uri === '/http-bind' && e.status === 200)
            .map((e) => e.upstream),
        );
        expect(upstreams.size).toBeGreaterThan(1);
      });
    }, 60_000);

    it('1b. they become mutual contacts (RFC 6121 §3.1 subscribe/subscribed both ways) and see each other’s available presence (§3.1.5, §4.2.2)', async () => {
      await withEvidence(async () => {
        const people: Array<[StropheClient, string]> = [
          [alice, 'alice'],
          [bob, 'bob'],
          [carol, 'carol'],
        ];
        for (const [user, userName] of people) {
          for (const [contact, contactName] of people) {
            if (user === contact) continue;
            const userMark = user.inbox.length;
            const contactMark = contact.inbox.length;
            // §3.1.1/§3.1.2: the request reaches the contact from the user's bare JID.
            user.conn.send($pres({ to: jidOf(contactName), type: 'subscribe' }));
            await stanzaAfter(
              contact,
              contactMark,
              'presence',
              (p) => p.getAttribute('type') === 'subscribe' && bare(p.getAttribute('from')) === jidOf(userName),
            );
            // §3.1.5: approving makes the contact's server send the contact's presence to the user.
            contact.conn.send($pres({ to: jidOf(userName), type: 'subscribed' }));
            await stanzaAfter(user, userMark, 'presence', availableFrom(contact.jid));
          }
        }
        // §2.1.3: every roster now lists the two others with subscription 'both'.
        for (const [user, userName] of people) {
          const roster = await requestRoster(user);
          const list = roster.getElementsByTagName('item');
          const items: Array<[string | null, string | null]> = [];
          for (let i = 0; i < list.length; i++) {
            const item = list.item(i) as XmlElement;
            items.push([item.getAttribute('jid'), item.getAttribute('subscription')]);
          }
          const others = people.filter(([, n]) => n !== userName).map(([, n]) => [jidOf(n), 'both']);
          expect(items.sort()).toEqual(others.sort());
        }
        // Everyone has seen everyone else's available presence, from their full JIDs.
        for (const [user] of people) {
          for (const [contact] of people) {
            if (user !== contact) await user.waitForStanza('presence', availableFrom(contact.jid), 1_000);
          }
        }
      });
    }, 30_000);

    it('1c. chat both ways, to full and to bare JIDs (RFC 6121 §8.5.3.1 full JID, §8.5.2.1.1 bare JID; RFC 6120 §8.1.2.1 from = sender’s full JID), across nodes', async () => {
      await withEvidence(async () => {
        const exchanges: Array<[StropheClient, StropheClient, string, string]> = [
          [alice, bob, bob.jid, 'alice→bob full'],
          [alice, bob, jidOf('bob'), 'alice→bob bare'],
          [bob, alice, alice.jid, 'bob→alice full'],
          [bob, alice, jidOf('alice'), 'bob→alice bare'],
          [carol, alice, alice.jid, 'carol→alice full'],
          [bob, carol, jidOf('carol'), 'bob→carol bare'],
        ];
        for (const [from, to, address, body] of exchanges) {
          from.sendChat(address, body);
          const got = await to.waitForChat(body);
          expect(got.getAttribute('from')).toBe(from.jid);
          expect(got.getAttribute('type')).toBe('chat');
          expect(bare(got.getAttribute('to'))).toBe(bare(to.jid));
        }
      });
    }, 30_000);

    it('1d. carol logs out; alice’s message is kept in offline storage (XEP-0160, RFC 6121 §8.5.2.2.1) and delivered with a delay stamp (XEP-0203) when carol logs in again', async () => {
      await withEvidence(async () => {
        const oldCarol = carol.jid;
        const mark = alice.inbox.length;
        await carol.disconnect();
        // RFC 6121 §4.5: the logout's unavailable presence reaches her contacts.
        await stanzaAfter(alice, mark, 'presence', unavailableFrom(oldCarol));
        alice.sendChat(jidOf('carol'), 'while you were away');
        const stored = await waitUntil(
          'the message in bosh:offline:carol',
          async () => {
            const items = await inspect.lrange('bosh:offline:carol', 0, -1);
            return items.some((i) => i.includes('while you were away')) ? items : undefined;
          },
          5_000,
        );
        expect(stored).toHaveLength(1);

        const sentAt = Date.now();
        ({ client: carol } = await online('carol (again)', 'carol'));
        const message = await carol.waitForChat('while you were away');
        expect(message.getAttribute('from')).toBe(alice.jid);
        const delay = delayOf(message);
        expect(delay).toBeDefined();
        expect(delay?.getAttribute('from')).toBe(DOMAIN);
        const stamp = delay?.getAttribute('stamp') ?? '';
        // XEP-0082 DateTime in UTC, not after the message was sent (second precision).
        expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        expect(Date.parse(stamp)).toBeLessThanOrEqual(sentAt + 1_000);
        // Deleted once the client's next request confirms it has them (leased until then).
        await waitUntil(
          'bosh:offline:carol emptied by the confirmation',
          async () => ((await inspect.llen('bosh:offline:carol')) === 0 ? true : undefined),
          5_000,
        );
      });
    }, 30_000);
  });

  describe('2. the node holding bob’s session is killed (SIGKILL)', () => {
    it('2a. bob’s next request ends with a terminal condition (XEP-0124 §17.2: remote-connection-failed or item-not-found)', async () => {
      await withEvidence(async () => {
        bobOldJid = bob.jid;
        bobOldSid = bob.session().sid;
        const oldRid = bob.session().rid;
        const owner = await ownerOf(bob);
        expect(owner).toBe(bobNode);
        expect(owner).not.toBe(aliceNode);
        deadNode = nodeById(owner);
        const mark = bob.statuses.length;

        killedAt = Date.now();
        expect(await deadNode.kill()).toEqual([]);
        // At once, while the dead node's heartbeat has not lapsed (NODE_TTL_MS=2000): this message
        // is routed to bob's route on the dead node, i.e. onto that node's bus stream, where
        // nobody reads it any more. Step 2d checks the reaper re-routed it to offline storage.
        alice.sendChat(bobOldJid, 'sent right after the crash');

        const ended: StatusEvent = await bob.waitForStatus(['CONNFAIL', 'CONNTIMEOUT', 'DISCONNECTED'], 10_000, mark);
        const seconds = (Date.now() - killedAt) / 1000;
        observations.bobAfterKill = { status: ended.status, condition: ended.condition, seconds };
        // A terminal BOSH condition, not a client giving up after timeouts (CONNTIMEOUT) or a
        // disconnect without a reason.
        expect({ status: ended.status, condition: ended.condition }).toEqual({ status: 'CONNFAIL', condition: expect.any(String) });
        expect(TERMINAL_CONDITIONS).toContain(ended.condition);
        await bob.waitForStatus(['DISCONNECTED'], 5_000, mark);

        // The same at the wire, from any node: the dead session's sid gets a terminal body.
        const answer = await waitUntil(
          'a non-502 answer for the dead sid through nginx',
          async () => {
            const res = await postXml(nginx.boshUrl, `<body xmlns='http://jabber.org/protocol/httpbind' sid='${bobOldSid}' rid='${oldRid + 5}'/>`);
            return res.status === 502 ? undefined : res;
          },
          8_000,
          200,
        );
        observations.deadSidAnswer = `HTTP ${answer.status} ${answer.body}`;
        expect(answer.status).toBe(200);
        expect(answer.body).toMatch(/type=['"]terminate['"]/);
        expect(answer.body).toMatch(/condition=['"](remote-connection-failed|item-not-found)['"]/);
      });
    }, 30_000);

    it('2b. alice receives presence unavailable from bob’s full JID (RFC 6121 §4.5: the server speaks for a session that ended without it; the reaper tells contacts)', async () => {
      await withEvidence(async () => {
        const gone = await alice.waitForStanza('presence', unavailableFrom(bobOldJid), Math.max(1_000, killedAt + 10_000 - Date.now()));
        observations.unavailableAfterSeconds = (Date.now() - killedAt) / 1000;
        expect(gone.getAttribute('from')).toBe(bobOldJid);
        // carol is bob's contact too; she hears it unless she was on the same (dead) node.
        if (carol.internals.connected) await carol.waitForStanza('presence', unavailableFrom(bobOldJid), 5_000);
      });
    }, 20_000);

    it('2c. bob’s route and sid are gone from Redis (the reaper removes a dead node’s routes and sid registry entries)', async () => {
      await withEvidence(async () => {
        const dead = deadNode?.id as string;
        // The reaper forgets the node last, after routes, presence and its unread bus: wait for all of it.
        await waitUntil(
          `no route of bob on ${dead}, and ${dead} forgotten`,
          async () => {
            const routes = await inspect.hgetall('bosh:routes:bob@localhost');
            const gone = Object.values(routes).every((json) => (JSON.parse(json) as { node: string }).node !== dead);
            return gone && (await inspect.sismember('bosh:nodes', dead)) === 0;
          },
          8_000,
        );
        const routes = Object.values(await inspect.hgetall('bosh:routes:bob@localhost')).map((json) => JSON.parse(json) as { node: string; resource: string });
        expect(routes.filter((r) => r.node === dead)).toEqual([]);
        expect(await inspect.get(`bosh:sid:${bobOldSid}`)).toBeNull();
        expect(await inspect.sismember('bosh:nodes', dead)).toBe(0);
      });
    }, 20_000);

    it('2d. messages to bob’s old full JID and bare JID land in offline storage (RFC 6121 §8.5.3.2.1 full JID without resource → as bare; §8.5.2.2 no resource → offline), including the one left on the dead node’s bus', async () => {
      await withEvidence(async () => {
        alice.sendChat(bobOldJid, 'to your old full JID');
        alice.sendChat(jidOf('bob'), 'to your bare JID');
        const expected = ['sent right after the crash', 'to your old full JID', 'to your bare JID'];
        const stored = await waitUntil(
          'three messages in bosh:offline:bob',
          async () => {
            const items = await inspect.lrange('bosh:offline:bob', 0, -1);
            return expected.every((b) => items.some((i) => i.includes(b))) ? items : undefined;
          },
          8_000,
        );
        expect(stored).toHaveLength(3);
        // None of them was bounced to alice as an error.
        expect(
          alice.inbox.filter((s) => s.nodeName === 'message' && s.getAttribute('type') === 'error').map((s) => new XMLSerializer().serializeToString(s)),
        ).toEqual([]);
      });
    }, 20_000);

    it('2e. nginx does not keep sending clients to the dead port: the two other nodes serve meanwhile (max_fails), then a replacement node on the same port serves again', async () => {
      await withEvidence(async () => {
        const dead = deadNode as ClusterNodeProcess;
        const sinceKill = nginx.accessLog().filter((e) => Number(e.msec) * 1000 >= killedAt);
        // Every 502 since the kill came from the dead address; the live nodes answered the rest.
        const badGateway = sinceKill.filter((e) => e.status === 502 || e.status === 504);
        observations.badGatewayAfterKill = badGateway.map((e) => `${e.upstream} ${e.status}`);
        expect(badGateway.filter((e) => !e.upstream.includes(dead.address))).toEqual([]);
        const liveServed = new Set(sinceKill.filter((e) => e.status === 200).map((e) => e.upstream));
        expect(liveServed.size).toBeGreaterThan(0);
        expect([...liveServed].filter((u) => u === dead.address)).toEqual([]);

        // What a supervisor does: the same address again, under a new node id.
        const replacement = await startNode(`${dead.id}-replacement`, dead.port);
        const startedAt = Date.now();
        const served = await waitUntil(
          'a request through nginx served by the replacement node',
          async () => {
            const res = await rawRequest(`${nginx.url}/healthz`, 'GET');
            if (res.status !== 200) return undefined;
            return nginx.accessLog().find((e) => e.upstream === replacement.address && e.status === 200 && Number(e.msec) * 1000 >= startedAt);
          },
          (FAIL_TIMEOUT_S + 7) * 1000,
          200,
        );
        expect(served.upstream).toBe(dead.address);
        // No 5xx once the replacement serves: a round of requests through nginx, more than one per
        // upstream, all answered; nginx's log of everything finished since then has no 5xx either.
        const probes: number[] = [];
        for (let i = 0; i < 6; i++) probes.push((await rawRequest(`${nginx.url}/healthz`, 'GET')).status);
        expect(probes).toEqual([200, 200, 200, 200, 200, 200]);
        const after = await waitUntil(
          'the probes in nginx’s access log',
          async () => {
            const since = nginx.accessLog().filter((e) => Number(e.msec) >= Number(served.msec));
            return since.filter((e) => e.uri === '/healthz').length > probes.length ? since : undefined;
          },
          5_000,
        );
        expect(after.filter((e) => e.status >= 500)).toEqual([]);
      });
    }, 30_000);

    it('2f. bob logs in again through nginx and receives the three messages, each with a delay stamp (XEP-0160 delivery at initial presence, XEP-0203)', async () => {
      await withEvidence(async () => {
        ({ client: bob, node: bobNode } = await online('bob (again)', 'bob', aliceNode));
        for (const body of ['sent right after the crash', 'to your old full JID', 'to your bare JID']) {
          const message = await bob.waitForChat(body);
          expect(message.getAttribute('from')).toBe(alice.jid);
          expect(delayOf(message)?.getAttribute('stamp')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        }
        // Deleted once the client's next request confirms it has them (leased until then).
        await waitUntil('bosh:offline:bob emptied by the confirmation', async () => ((await inspect.llen('bosh:offline:bob')) === 0 ? true : undefined), 5_000);
      });
    }, 30_000);
  });

  describe('3. redis-server restarts (stopped ~2 s, started again on the same port, empty)', () => {
    interface OutageRecord {
      /** Each ping's outcome. */
      pings: string[];
      /** The client's BOSH requests that nginx completed during the outage: node, owner or not, HTTP status. */
      requests: string[];
      /** Whether one of them entered through a node that does not hold the session. */
      crossedNonOwner: boolean;
    }
    const outage: { alice?: OutageRecord; bob?: OutageRecord } = {};
    let marks: { alice: number; bob: number };
    let sids: { alice: string; bob: string };

    /**
     * One XEP-0199 ping while Redis is down, with its outcome: an iq answer, a terminal
     * condition (Strophe's CONNFAIL), or nothing within the bound (a hang). The bound, 5 s, is far
     * below wait (60 s): a ping needs no Redis on the owner node, and a node that cannot reach
     * Redis answers at once.
     */
    async function pingDuringOutage(client: StropheClient, boundMs = 5_000): Promise<string> {
      const from = client.statuses.length;
      const started = Date.now();
      const answer = client.ping(DOMAIN, boundMs).then(
        (res) => `iq ${res.getAttribute('type')}${res.getAttribute('type') === 'error' ? ` (${errorOf(res).condition})` : ''}`,
        () => 'no iq answer',
      );
      const terminal = client.waitForStatus(['CONNFAIL', 'CONNTIMEOUT', 'DISCONNECTED'], boundMs + 1_000, from).then(
        (ev) => `terminal ${ev.status} (${ev.condition ?? 'no condition'})`,
        () => 'hang',
      );
      const outcome = await Promise.race([answer, terminal]);
      return `${outcome} after ${Date.now() - started} ms`;
    }

    /**
     * Pings until one of the client's requests has entered through a node other than the owner
     * (nginx round-robin decides; bounded to 6 pings) or the session ended: behind a non-sticky
     * balancer that is what every session meets during an outage, so the step must include it.
     */
    async function exerciseDuringOutage(client: StropheClient, sid: string, owner: string, since: number): Promise<OutageRecord> {
      const ownerAddress = nodeById(owner).address;
      // Requests *sent* during the outage (a long poll forwarded before it does not count).
      const requests = (): AccessEntry[] => nginx.accessLog().filter((e) => (Number(e.msec) - Number(e.requestTime)) * 1000 >= since && e.body.includes(sid));
      const pings: string[] = [];
      for (let round = 0; round < 6; round++) {
        pings.push(await pingDuringOutage(client));
        if (!client.internals.connected || requests().some((e) => e.upstream !== ownerAddress)) break;
      }
      const seen = requests();
      return {
        pings,
        requests: seen.map((e) => {
          const node = nodes.find((n) => n.alive && n.address === e.upstream)?.id ?? e.upstream;
          const rid = /rid=["']?(\d+)/.exec(e.body)?.[1] ?? '?';
          return `rid ${rid} via ${node}${e.upstream === ownerAddress ? ' (owner)' : ' (not the owner)'}: HTTP ${e.status}`;
        }),
        crossedNonOwner: seen.some((e) => e.upstream !== ownerAddress),
      };
    }

    it('3a. during the outage, existing sessions keep answering local pings or get a defined error — never a hang (XEP-0124 §17: a defined condition; no request held beyond wait)', async () => {
      await withEvidence(async () => {
        marks = { alice: alice.statuses.length, bob: bob.statuses.length };
        sids = { alice: alice.session().sid, bob: bob.session().sid };
        const stoppedAt = Date.now();
        await redis.stop();
        [outage.alice, outage.bob] = await Promise.all([
          exerciseDuringOutage(alice, sids.alice, aliceNode, stoppedAt),
          exerciseDuringOutage(bob, sids.bob, bobNode, stoppedAt),
        ]);
        const nodesHealthy = await Promise.all(
          nodes
            .filter((n) => n.alive)
            .map((n) =>
              rawRequest(`${n.url}/healthz`, 'GET', undefined, {}, 2_000).then(
                (r) => `${n.id}: ${r.status}`,
                (e: Error) => `${n.id}: ${e.message}`,
              ),
            ),
        );
        // Time is the subject here: the outage lasts at least ~2 s of wall time (real Redis and node
        // processes, no fake clock), longer than a heartbeat interval, so the nodes see Redis gone.
        const down = Date.now() - stoppedAt;
        if (down < 2_000) await sleep(2_000 - down);
        await redis.start();
        observations.outage = outage;

        // The nodes stayed up (no crash, no hang on losing Redis).
        expect(nodesHealthy).toEqual(nodes.filter((n) => n.alive).map((n) => `${n.id}: 200`));
        for (const [who, record] of Object.entries(outage)) {
          // The step is meaningful only if a request met a node that must ask Redis for the owner.
          expect({ who, record, crossedNonOwner: record.crossedNonOwner }).toEqual({ who, record, crossedNonOwner: true });
          for (const outcome of record.pings) {
            // An answer to the ping, or a defined terminal condition — never nothing.
            const condition = /^terminal CONNFAIL \(([a-z-]+)\)/.exec(outcome)?.[1];
            const defined = /^iq (result|error)/.test(outcome) || (condition !== undefined && TERMINAL_CONDITIONS.includes(condition));
            expect({ who, outcome, defined }).toEqual({ who, outcome, defined: true });
          }
        }
      });
    }, 40_000);

    it('3b. after Redis is back, the nodes re-register by themselves: heartbeats, and the sids and routes of their live sessions', async () => {
      await withEvidence(async () => {
        const live = nodes.filter((n) => n.alive);
        await waitUntil(
          'every live node heartbeating again',
          async () => {
            const alive = await Promise.all(live.map((n) => inspect.exists(`bosh:node:${n.id}:alive`)));
            return alive.every((a) => a === 1);
          },
          8_000,
          200,
        );
        for (const [sid, node, user] of [
          [sids.alice, aliceNode, 'alice'],
          [sids.bob, bobNode, 'bob'],
        ] as const) {
          // Whatever the client saw, the session still exists on its node (nothing ended it there).
          expect({
            user,
            sid: await waitUntil(`bosh:sid:${sid} again`, async () => (await inspect.get(`bosh:sid:${sid}`)) ?? undefined, 5_000).catch(() => null),
          }).toEqual({ user, sid: node });
          const routes = await waitUntil(
            `route of ${user} again`,
            async () => {
              const r = await inspect.hgetall(`bosh:routes:${user}@localhost`);
              return Object.keys(r).length > 0 ? r : undefined;
            },
            5_000,
          ).catch(() => ({}));
          expect({ user, nodes: Object.values(routes).map((j) => (JSON.parse(j) as { node: string }).node) }).toEqual({ user, nodes: [node] });
        }
      });
    }, 30_000);

    it('3c. cluster delivery resumes by itself: alice and bob (on different nodes) chat again without logging in again', async () => {
      await withEvidence(async () => {
        expect(aliceNode).not.toBe(bobNode);
        // The sessions must have survived the outage: no terminal status on either client.
        const ended = [
          ...alice.statuses.slice(marks.alice).map((s) => `alice: ${s.status} (${s.condition ?? 'no condition'})`),
          ...bob.statuses.slice(marks.bob).map((s) => `bob: ${s.status} (${s.condition ?? 'no condition'})`),
        ].filter((s) => /CONNFAIL|CONNTIMEOUT|DISCONNECTED/.test(s));
        expect({ endedDuringOutage: ended, duringOutage: outage }).toEqual({ endedDuringOutage: [], duringOutage: outage });

        const back = Date.now();
        const attempts: Record<string, number> = {};
        for (const [from, to, label] of [
          [alice, bob, 'alice→bob'],
          [bob, alice, 'bob→alice'],
        ] as const) {
          let delivered = false;
          let attempt = 0;
          for (; attempt < 15 && !delivered; attempt++) {
            const body = `${label} after the restart #${attempt}`;
            from.sendChat(to.jid, body);
            delivered = await to.waitForChat(body, 700).then(
              () => true,
              () => false,
            );
          }
          attempts[label] = attempt;
          expect({ label, delivered }).toEqual({ label, delivered: true });
        }
        observations.chatResumed = { attempts, ms: Date.now() - back };
      });
    }, 40_000);
  });

  describe('3 (diagnostic). which part of 3c fails', () => {
    it('3d. fresh sessions logged in after the restart, on different nodes, chat across nodes (cluster delivery itself recovered; separates it from the fate of the sessions in 3c)', async () => {
      await withEvidence(async () => {
        // The clients of 3c are replaced only here; 3c keeps documenting the requirement.
        for (const c of [alice, bob]) if (c.internals.connected) await c.disconnect();
        ({ client: alice, node: aliceNode } = await online('alice (after restart)', 'alice'));
        ({ client: bob, node: bobNode } = await online('bob (after restart)', 'bob', aliceNode));
        expect(bobNode).not.toBe(aliceNode);
        alice.sendChat(bob.jid, 'fresh alice→bob');
        expect((await bob.waitForChat('fresh alice→bob')).getAttribute('from')).toBe(alice.jid);
        bob.sendChat(alice.jid, 'fresh bob→alice');
        expect((await alice.waitForChat('fresh bob→alice')).getAttribute('from')).toBe(bob.jid);
      });
    }, 40_000);
  });

  describe('4. cleanup', () => {
    it('4. nginx, the nodes and redis-server are killed by process group; no process and no listening port is left', async () => {
      const ports = [nginx.options.port, ...nodes.map((n) => n.port), redis.port];
      const groups = [nginx.process, ...nodes.map((n) => n.process)];
      const left = await teardown();
      expect(left).toEqual([]);
      // Probe every group again: a kill(-pgid, 0) finds nothing alive (zombies excluded).
      // Kill every group once more: either no process is in it any more (ESRCH), or what the
      // signal reached is at most zombies waiting for their parent to reap them (not alive).
      const check = groups.map((g) => {
        let signal = 'delivered';
        try {
          process.kill(-g.pgid, 'SIGKILL');
        } catch (err) {
          signal = (err as NodeJS.ErrnoException).code ?? 'error';
        }
        return { what: g.label, signal: signal === 'ESRCH' || signal === 'delivered' ? 'ok' : signal, alive: liveMembers(g.pgid) };
      });
      expect(check).toEqual(groups.map((g) => ({ what: g.label, signal: 'ok', alive: [] })));
      const open = (await Promise.all([...new Set(ports)].map(async (p) => ((await portAccepts(p)) ? p : undefined)))).filter((p) => p !== undefined);
      expect(open).toEqual([]);
    }, 30_000);
  });
});
