/**
 * End-to-end with Converse.js, a complete third-party web chat client, in
 * headless Chromium (Debian's /usr/bin/chromium driven by playwright-core).
 *
 * - The gateway runs in-process: startNode(loadConfig({...})) with USERS
 *   alice and bob and CORS_ORIGINS set to the static site's origin.
 * - Converse's dist/ bundle (the npm package converse.js) is served by a
 *   static site on another 127.0.0.1 port (support/converse-site.ts), so
 *   every BOSH request is a real cross-origin request, pre-flight included.
 * - Chromium's proxy is a dead end (support/dead-end-proxy.ts): nothing but
 *   127.0.0.1 is reachable, and the suite checks the page asked for nothing
 *   else (no CDN, no sponsor logos, no XEP-0156 look-up).
 * - bob is a Strophe.js client in Node (support/strophe-client.ts).
 *
 * Scenario: alice and bob become mutual contacts (RFC 6121 §3 subscription
 * handshake, done by two Node clients), alice logs in with Converse over
 * BOSH, sees bob online in her roster, receives bob's message, answers from
 * the chat textarea (Enter), and bob's Node client receives the reply. The
 * page is then reloaded while bob sends another message: Converse's
 * `keepalive` resumes the same BOSH session (XEP-0124 §14 rid continuity)
 * instead of logging in again, and the message is shown. Logging out ends
 * the BOSH session.
 *
 * Every BOSH request and response of the page is recorded from the network
 * (not from Converse's internals). The iqs Converse sends are listed with the
 * server's answer; those answered with an error must carry an expected
 * condition, and the page must log no other error (RFC 6120 §8.3).
 *
 * A screenshot of the open chat is written to docs/images/converse-chat.png
 * (UPDATE_SCREENSHOTS=1 npx jest --runInBand spec/e2e/converse.spec.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { startNode, type RunningNode } from '../../src/app';
import { startConverseSite, CONVERSE_VERSION, type ConverseSite } from './support/converse-site';
import { startDeadEndProxy, type DeadEndProxy } from './support/dead-end-proxy';
import { StropheClient, destroyXhrAgents, bodyOf, $iq, $pres, type XmlElement } from './support/strophe-client';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';
import { until } from './support/until';

const VIEWPORT = { width: 1280, height: 800 };
const DOCS_SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'images', 'converse-chat.png');
/**
 * The picture shows times and a date, so it differs on every run: it goes to docs/ only when
 * it is missing there or when asked (UPDATE_SCREENSHOTS=1), else to the temp folder.
 */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS === '1' || !fs.existsSync(DOCS_SCREENSHOT) ? DOCS_SCREENSHOT : path.join(os.tmpdir(), 'converse-chat.png');

const DOMAIN = 'localhost'; // XMPP_DOMAIN's default
const PASSWORD = 'secret';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const NS_ROSTER = 'jabber:iq:roster';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/**
 * Stanza error conditions a server may rightly give to what Converse asks for
 * here: a feature the server does not have (PEP / pubsub, MAM, blocking ...)
 * is service-unavailable (RFC 6120 §8.4) or feature-not-implemented.
 */
const EXPECTED_IQ_ERRORS = new Set(['service-unavailable', 'feature-not-implemented']);

let site: ConverseSite;
let proxy: DeadEndProxy;
let gateway: RunningNode;
let userDataDir: string;
let context: BrowserContext;
let page: Page;
let bob: StropheClient;
const clients: StropheClient[] = [];

/** What the page did, in order. */
const pageLog: string[] = [];
/** BOSH bodies the page sent / received, in the order the requests were sent / answered. */
const boshSent: string[] = [];
const boshReceived: string[] = [];
/** Requests of the page for anything but 127.0.0.1 (the proxy refused them). */
const external: string[] = [];
/** Access-Control-Allow-Origin of each BOSH response. */
const allowOrigin: Array<string | undefined> = [];
const consoleErrors: string[] = [];
/** Reads of BOSH response bodies still under way (Playwright hands them over asynchronously). */
const bodyReads = new Set<Promise<void>>();

function note(line: string): void {
  pageLog.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
}

function newClient(label: string): StropheClient {
  const c = new StropheClient(label, gateway.boshUrl);
  clients.push(c);
  return c;
}

/** Make a failure show what the page saw and said on the wire. */
async function withPageLogs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    e.message = `${e.message}\n\n--- Converse page log (last 60) ---\n${pageLog.slice(-60).join('\n')}\n\n${bob?.dump(20) ?? ''}`;
    throw e;
  }
}

function parse(xml: string): XmlElement | null {
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml');
    return doc.documentElement ?? null;
  } catch {
    return null;
  }
}

function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as XmlElement);
  return out;
}

/** Stanzas (children of <body/>) across all recorded bodies. */
function stanzas(bodies: string[]): XmlElement[] {
  return bodies.flatMap((b) => {
    const body = parse(b);
    return body ? childElements(body) : [];
  });
}

interface IqExchange {
  type: string;
  to: string;
  payload: string;
  answer: string;
}

/** The iqs Converse sent and what the server answered, one line each. */
function iqExchanges(): IqExchange[] {
  const answers = new Map<string, XmlElement>();
  for (const s of stanzas(boshReceived)) {
    if (s.localName === 'iq' && ['result', 'error'].includes(s.getAttribute('type') ?? '')) answers.set(s.getAttribute('id') ?? '', s);
  }
  return stanzas(boshSent)
    .filter((s) => s.localName === 'iq' && ['get', 'set'].includes(s.getAttribute('type') ?? ''))
    .map((iq) => {
      const child = childElements(iq)[0];
      const grand = child ? childElements(child)[0] : undefined;
      const node = grand?.getAttribute('node');
      const payload = child ? `${child.localName} ${child.namespaceURI}${node ? ` node=${node}` : ''}` : '(empty)';
      const res = answers.get(iq.getAttribute('id') ?? '');
      let answer = 'no answer';
      if (res?.getAttribute('type') === 'result') answer = 'result';
      else if (res) {
        const error = res.getElementsByTagName('error')[0];
        const condition = error ? childElements(error).find((c) => c.namespaceURI === NS_STANZAS && c.localName !== 'text') : undefined;
        answer = `error ${error?.getAttribute('type') ?? '?'}/${condition?.localName ?? '?'}`;
      }
      return { type: iq.getAttribute('type') ?? '', to: iq.getAttribute('to') ?? '(no to)', payload, answer };
    });
}

/** The sid of the BOSH session the page is on now (from its latest request). */
function currentSid(): string | null {
  for (let i = boshSent.length - 1; i >= 0; i--) {
    const sid = parse(boshSent[i]!)?.getAttribute('sid');
    if (sid) return sid;
  }
  return null;
}

function rosterContact(jid: string): string {
  return `li.current-xmpp-contact a.open-chat[data-jid="${jid}"]`;
}

async function waitForContactOnline(jid: string): Promise<void> {
  await page.locator(`li.current-xmpp-contact[data-status="online"] a.open-chat[data-jid="${jid}"]`).first().waitFor({ timeout: 20_000 });
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this suite needs Debian's Chromium (apt-get update && apt-get install -y chromium)`);
  }
  site = await startConverseSite();
  proxy = await startDeadEndProxy();
  gateway = await startNode(
    loadConfig({ PORT: '0', STORAGE: 'memory', USERS: `alice:${PASSWORD},bob:${PASSWORD}`, CORS_ORIGINS: site.origin, LOG_LEVEL: 'silent' }),
  );
  site.configure({
    bosh_service_url: gateway.boshUrl,
    // No websocket_url: BOSH only. No XEP-0156 host-meta look-up on the JID's domain.
    discover_connection_methods: false,
    authentication: 'login',
    auto_login: true,
    jid: ALICE,
    password: PASSWORD,
    keepalive: true,
    view_mode: 'fullscreen',
    assets_path: '/dist/',
    i18n: 'en',
    loglevel: 'info',
    // OMEMO needs PEP (XEP-0163), which the server does not offer; its wasm is also fetched from the site root.
    blacklisted_plugins: ['converse-omemo', 'converse-omemo-views'],
    // Defaults that would reach other servers: the MUC search service is api@search.jabber.network.
    muc_search_service: '',
    play_sounds: false,
    show_desktop_notifications: false,
  });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosh-e2e-converse-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: VIEWPORT,
    // Loopback is never proxied; everything else goes to the dead end.
    proxy: { server: proxy.url, bypass: '127.0.0.1' },
  });
}, 30_000);

afterAll(async () => {
  // The Node clients (graceful terminate), the browser, then the servers.
  await Promise.all(clients.map((c) => c.close()));
  destroyXhrAgents();
  await context?.close().catch(() => undefined);
  await site?.close();
  await proxy?.close();
  await gateway?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}, 30_000);

describe(`Converse.js ${CONVERSE_VERSION} in headless Chromium against the gateway (BOSH, page on another origin)`, () => {
  it('alice and bob become mutual contacts: subscribe/subscribed both ways (RFC 6121 §3.1, §3.2)', async () => {
    bob = newClient('bob (Node)');
    await bob.login(BOB, PASSWORD);
    await bob.becomeAvailable();
    const alice = newClient('alice (Node, setup only)');
    await alice.login(ALICE, PASSWORD);
    await alice.becomeAvailable();

    const isPresence = (type: string, from: string) => (p: XmlElement) =>
      p.getAttribute('type') === type && (p.getAttribute('from') ?? '').split('/')[0] === from;
    bob.conn.send($pres({ to: ALICE, type: 'subscribe' }));
    await alice.waitForStanza('presence', isPresence('subscribe', BOB));
    alice.conn.send($pres({ to: BOB, type: 'subscribed' }));
    alice.conn.send($pres({ to: BOB, type: 'subscribe' }));
    await bob.waitForStanza('presence', isPresence('subscribe', ALICE));
    bob.conn.send($pres({ to: ALICE, type: 'subscribed' }));
    await alice.waitForStanza('presence', isPresence('subscribed', BOB));

    const rosterOf = async (c: StropheClient): Promise<Array<[string | null, string | null]>> => {
      const res = await c.iq($iq({ type: 'get' }).c('query', { xmlns: NS_ROSTER }));
      return Array.from(res.getElementsByTagName('item')).map((i) => [i.getAttribute('jid'), i.getAttribute('subscription')]);
    };
    expect(await rosterOf(alice)).toEqual([[BOB, 'both']]);
    expect(await rosterOf(bob)).toEqual([[ALICE, 'both']]);
    // alice's Node client leaves; alice comes back with Converse. bob stays online.
    await alice.disconnect();
  });

  it('Converse logs alice in over BOSH (auto_login) and shows bob online in her roster', async () => {
    page = await context.newPage();
    page.on('console', (m) => {
      note(`console.${m.type()}: ${m.text()}`);
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => {
      note(`pageerror: ${e.message}`);
      consoleErrors.push(`pageerror: ${e.message}`);
    });
    page.on('requestfailed', (r) => note(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('request', (r) => {
      if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(r.url()) && !/^(data|blob):/.test(r.url())) {
        external.push(`${r.method()} ${r.url()}`);
        note(`EXTERNAL ${r.method()} ${r.url()}`);
      }
      if (r.url() !== gateway.boshUrl || r.method() !== 'POST') return;
      const body = r.postData() ?? '';
      boshSent.push(body);
      note(`BOSH SENT ${body}`);
    });
    page.on('requestfinished', (r) => {
      if (r.url() !== gateway.boshUrl || r.method() !== 'POST') return;
      const read = r
        .response()
        .then((res) => {
          allowOrigin.push(res?.headers()['access-control-allow-origin']);
          return res?.text();
        })
        .then((text) => {
          boshReceived.push(text ?? '');
          note(`BOSH RECV ${text ?? ''}`);
        })
        .catch((e: Error) => note(`BOSH RECV (unreadable: ${e.message})`));
      bodyReads.add(read);
      void read.finally(() => bodyReads.delete(read));
    });

    await withPageLogs(async () => {
      await page.goto(`${site.origin}/`);
      expect(await page.evaluate(() => (globalThis as any).converseInitialized)).toBe('ok'); // eslint-disable-line @typescript-eslint/no-explicit-any
      await waitForContactOnline(BOB);

      // The session request Converse (Strophe.js inside it) made, and what the server granted (XEP-0124 §7).
      const create = parse(boshSent[0] ?? '');
      expect(create?.getAttribute('to')).toBe(DOMAIN);
      expect(create?.getAttribute('sid')).toBeNull();
      const granted = parse(boshReceived[0] ?? '');
      expect(granted?.getAttribute('sid')).toBeTruthy();
      // Cross-origin: the browser let the page read it because the gateway allowed this origin.
      expect(allowOrigin[0]).toBe(site.origin);
      note(
        `session: asked wait=${create?.getAttribute('wait')} hold=${create?.getAttribute('hold')}; ` +
          `granted wait=${granted?.getAttribute('wait')} hold=${granted?.getAttribute('hold')} requests=${granted?.getAttribute('requests')}`,
      );
      // The own status shown by Converse, and bob as a "both" contact.
      await page.locator(`li.current-xmpp-contact.both a.open-chat[data-jid="${BOB}"]`).first().waitFor();
    });
  });

  it('shows a message bob sends from Node, and delivers the reply typed in the chat textarea to bob', async () => {
    await withPageLogs(async () => {
      const hello = 'Hi Alice, this is Bob writing from a Strophe.js client in Node.';
      bob.sendChat(ALICE, hello);
      // An unread badge on bob's roster entry, then the conversation when opened.
      await page
        .locator(`${rosterContact(BOB)} .msgs-indicator`)
        .first()
        .waitFor({ timeout: 10_000 });
      await page.locator(rosterContact(BOB)).first().click();
      const chat = page
        .locator('converse-chat')
        .filter({ has: page.locator('.chat-textarea') })
        .first();
      await chat.locator('.chat-msg__text', { hasText: hello }).waitFor({ timeout: 10_000 });

      const reply = 'Hello Bob! Typed into Converse.js, sent over BOSH \u2714';
      const textarea = chat.locator('textarea.chat-textarea');
      await textarea.click();
      await textarea.fill(reply);
      await textarea.press('Enter');

      const received = await bob.waitForChat(reply, 10_000);
      expect(received.getAttribute('type')).toBe('chat');
      expect(received.getAttribute('from')).toMatch(/^alice@localhost\/converse\.js-\d+$/);
      expect((received.getAttribute('to') ?? '').split('/')[0]).toBe(BOB);
      expect(bodyOf(received)).toBe(reply);
      // Shown on alice's side as sent (own message in the chat history).
      await chat.locator('.chat-msg__text', { hasText: reply }).waitFor({ timeout: 5_000 });
    });
  });

  it('screenshot of the open chat (docs/images/converse-chat.png)', async () => {
    await withPageLogs(async () => {
      bob.sendChat(ALICE, 'Got it, thanks. See you at the meeting.');
      await page.locator('.chat-msg__text', { hasText: 'See you at the meeting' }).waitFor({ timeout: 10_000 });
      await page.mouse.move(0, VIEWPORT.height - 1); // no hover styling in the picture
      // Converse's views are lit elements, which render asynchronously: every pending update is
      // done, the fonts are in, and a frame has been painted since.
      await page.evaluate(async () => {
        const dom = globalThis as unknown as {
          document: { querySelectorAll(selector: string): ArrayLike<{ updateComplete?: Promise<unknown> }>; fonts: { ready: Promise<unknown> } };
          requestAnimationFrame(callback: () => void): void;
        };
        const updates = Array.from(dom.document.querySelectorAll('*'))
          .map((e) => e.updateComplete)
          .filter((u) => u !== undefined);
        await Promise.all(updates);
        await dom.document.fonts.ready;
        await new Promise<void>((painted) => dom.requestAnimationFrame(() => dom.requestAnimationFrame(painted)));
      });
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      const png = fs.readFileSync(SCREENSHOT);
      expect(png.readUInt32BE(16)).toBe(VIEWPORT.width);
      expect(png.readUInt32BE(20)).toBe(VIEWPORT.height);
    });
  });

  it('survives a page reload: keepalive resumes the same BOSH session, no new login, nothing lost', async () => {
    await withPageLogs(async () => {
      const sidBefore = currentSid();
      expect(sidBefore).toBeTruthy();
      const sentBefore = boshSent.length;
      // Unloading aborts the held request; once the gateway has dropped it, bob writes. The server
      // cannot hand the message to the aborted request: it keeps it for the session's next request
      // (XEP-0124 §8). The reloaded page cannot start Converse (and poll) until the message waits.
      const session = () => gateway.transport.session(sidBefore ?? '');
      const during = 'Sent while your page was reloading.';
      const release = site.holdBundle();
      const aborted = page.waitForEvent('requestfailed', { predicate: (r) => r.url() === gateway.boshUrl, timeout: 10_000 });
      const reloaded = page.reload();
      reloaded.catch(() => undefined); // awaited below; a failure before that is reported there
      try {
        await aborted;
        await until('the gateway to drop the aborted request', () => session()?.heldCount === 0);
        const queuedBefore = session()?.queuedCount ?? 0;
        bob.sendChat(ALICE, during);
        await until('bob’s message to wait in alice’s session', () => (session()?.queuedCount ?? 0) > queuedBefore);
      } finally {
        release();
      }
      await reloaded;
      expect(await page.evaluate(() => (globalThis as any).converseInitialized)).toBe('ok'); // eslint-disable-line @typescript-eslint/no-explicit-any
      await waitForContactOnline(BOB);
      const afterwards = 'Still there after the reload?';
      bob.sendChat(ALICE, afterwards);
      await page.locator(rosterContact(BOB)).first().click();
      await page.locator('.chat-msg__text', { hasText: during }).first().waitFor({ timeout: 10_000 });
      await page.locator('.chat-msg__text', { hasText: afterwards }).first().waitFor({ timeout: 10_000 });
      // Every request since the reload is on the old sid: no session request, no SASL.
      const after = boshSent.slice(sentBefore).map((b) => parse(b));
      expect(after.length).toBeGreaterThan(0);
      expect(after.map((b) => b?.getAttribute('sid'))).toEqual(after.map(() => sidBefore));
      expect(boshSent.slice(sentBefore).some((b) => /<auth\b/.test(b))).toBe(false);
    });
  });

  it('lists what Converse asked the server for; errors only for features the server lacks, no other page errors', async () => {
    // Response bodies are read asynchronously: the reads under way finish, and an answer still on
    // its way arrives. The expectation below names any iq left without one.
    await Promise.all([...bodyReads]);
    await until('an answer to every iq Converse sent', () => iqExchanges().every((x) => x.answer !== 'no answer'), 5_000, 100).catch(() => undefined);
    const exchanges = iqExchanges();
    const table = exchanges.map((x) => `${x.type.padEnd(3)} to=${x.to.padEnd(36)} ${x.payload.padEnd(70)} -> ${x.answer}`);
    console.log(`iqs sent by Converse.js ${CONVERSE_VERSION} (${exchanges.length}):\n${table.join('\n')}`);

    expect(exchanges.filter((x) => x.answer === 'no answer')).toEqual([]);
    const errors = exchanges.filter((x) => x.answer.startsWith('error'));
    expect(errors.filter((x) => !EXPECTED_IQ_ERRORS.has(x.answer.split('/')[1] ?? ''))).toEqual([]);

    // Roster, vCard, disco and carbons are implemented: they must have succeeded.
    const succeeded = (payload: RegExp) => exchanges.some((x) => payload.test(x.payload) && x.answer === 'result');
    expect(succeeded(/^query jabber:iq:roster/)).toBe(true);
    expect(succeeded(/^query http:\/\/jabber\.org\/protocol\/disco#info/)).toBe(true);
    expect(succeeded(/^enable urn:xmpp:carbons:2/)).toBe(true);
    expect(succeeded(/^vCard vcard-temp/)).toBe(true);

    const unexpected = consoleErrors.filter((text) => {
      // Converse logs the error iq it got; accepted when it is one of the expected conditions.
      const stanza = /^<iq\b/.test(text.trim()) ? parse(text.trim()) : null;
      if (stanza?.getAttribute('type') === 'error') {
        const error = stanza.getElementsByTagName('error')[0];
        const condition = error ? childElements(error).find((c) => c.namespaceURI === NS_STANZAS) : undefined;
        return !EXPECTED_IQ_ERRORS.has(condition?.localName ?? '');
      }
      return true;
    });
    expect(unexpected).toEqual([]);
    // The page's own requests. (Chromium itself still tries Google services despite the
    // --disable-* flags: update, accounts, autofill. The proxy refuses those too; not the page's doing.)
    expect(external).toEqual([]);
    expect(allowOrigin.filter((o) => o !== site.origin)).toEqual([]);
  });

  it("logging out of Converse ends the BOSH session (type='terminate', XEP-0124 §13) and bob sees alice go offline", async () => {
    await withPageLogs(async () => {
      const sent = boshSent.length;
      const offline = bob.waitForStanza(
        'presence',
        (p) => p.getAttribute('type') === 'unavailable' && /^alice@localhost\/converse\.js-/.test(p.getAttribute('from') ?? ''),
        10_000,
      );
      await page.evaluate(() => (globalThis as any).converseApi.user.logout()); // eslint-disable-line @typescript-eslint/no-explicit-any
      await offline;
      expect(boshSent.slice(sent).some((b) => parse(b)?.getAttribute('type') === 'terminate')).toBe(true);
    });
  });
});
