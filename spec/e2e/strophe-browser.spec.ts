/**
 * End-to-end in a real browser: headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) loads a page from a static site on ANOTHER origin
 * than the gateway, with Strophe.js's browser UMD bundle, and logs in over
 * BOSH with the browser's own XMLHttpRequest. Every BOSH request is therefore
 * a cross-origin request with a non-safelisted Content-Type (text/xml), so
 * Chromium pre-flights it: the suite only passes if the gateway's CORS
 * handling is right for the allowed origin (CORS_ORIGINS) and refuses others.
 *
 * If /usr/bin/chromium is missing the suite fails (it does not skip):
 * install it with `apt-get update && apt-get install -y chromium`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { startStaticSite, type StaticSite } from './support/static-site';
import { rawRequest, postXml } from './support/raw-http';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';
import { until } from './support/until';

const ALICE = `alice@${TEST_DOMAIN}`;
const BOB = `bob@${TEST_DOMAIN}`;
const FULL_JID = (user: string): RegExp => new RegExp(`^${user}@${TEST_DOMAIN.replace(/\./g, '\\.')}/[^/]+$`);

interface Tab {
  label: string;
  page: Page;
  log: string[];
}

interface IqSummary {
  type: string | null;
  from: string | null;
  errorType: string | null;
  condition: string | null;
}

interface Chat {
  from: string | null;
  to: string | null;
  type: string | null;
  body: string | null;
}

interface FetchResult {
  ok: boolean;
  status: number;
  body: string | null;
  error: string | null;
}

let site: StaticSite;
let gateway: RunningGateway;
let userDataDir: string;
let context: BrowserContext;
const tabs: Tab[] = [];

/** Call window.harness[fn](...args) in the page. */
function h<T>(tab: Tab, fn: string, ...args: unknown[]): Promise<T> {
  return tab.page.evaluate(
    ({ fn, args }) => (globalThis as any).harness[fn](...args), // eslint-disable-line @typescript-eslint/no-explicit-any
    { fn, args },
  ) as Promise<T>;
}

async function openTab(label: string, origin: string): Promise<Tab> {
  const page = await context.newPage();
  const tab: Tab = { label, page, log: [] };
  page.on('console', (m) => tab.log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => tab.log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => tab.log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  tabs.push(tab);
  await page.goto(`${origin}/?bosh=${encodeURIComponent(gateway.boshUrl)}`);
  await page.waitForFunction(() => (globalThis as any).harness !== undefined, undefined, { timeout: 5_000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
  return tab;
}

/** Make a failure show what the pages saw: console, failed requests, BOSH traffic. */
async function withPageLogs<T>(ts: Tab[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const parts: string[] = [];
    for (const t of ts) {
      let traffic: string[] = [];
      try {
        traffic = await h<string[]>(t, 'traffic');
      } catch {
        /* page gone */
      }
      parts.push(`--- ${t.label} page log ---\n${t.log.join('\n')}\n--- ${t.label} BOSH traffic ---\n${traffic.slice(-30).join('\n')}`);
    }
    const e = err as Error;
    e.message = `${e.message}\n\n${parts.join('\n\n')}`;
    throw e;
  }
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser e2e suite needs Debian's Chromium (apt-get update && apt-get install -y chromium)`);
  }
  site = await startStaticSite();
  gateway = await startGateway({ CORS_ORIGINS: site.allowedOrigin });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosh-e2e-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
}, 30_000);

afterAll(async () => {
  // Log out what is still logged in, then browser, then servers.
  await Promise.all(tabs.map((t) => h(t, 'disconnect').catch(() => undefined)));
  await context?.close().catch(() => undefined);
  await site?.close();
  await gateway?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}, 30_000);

describe('Strophe.js in headless Chromium, page on another origin than the gateway', () => {
  let alice: Tab;
  let bob: Tab;

  it('logs in (default mechanism SCRAM-SHA-256) across origins and binds alice@localhost/<resource>', async () => {
    alice = await openTab('alice', site.allowedOrigin);
    await withPageLogs([alice], async () => {
      const res = await h<{ jid: string; mechanism: string | null; statuses: string[] }>(alice, 'login', ALICE, TEST_PASSWORD);
      expect(res.statuses[0]).toBe('CONNECTING');
      expect(res.statuses[res.statuses.length - 1]).toBe('CONNECTED');
      expect(res.statuses.filter((s) => !['CONNECTING', 'AUTHENTICATING', 'CONNECTED'].includes(s))).toEqual([]);
      expect(res.mechanism).toBe('SCRAM-SHA-256');
      expect(res.jid).toMatch(FULL_JID('alice'));
    });
  });

  it('pings the server (XEP-0199) and gets service-unavailable for an unknown iq (RFC 6120 §8.4)', async () => {
    await withPageLogs([alice], async () => {
      expect(await h<IqSummary>(alice, 'ping', TEST_DOMAIN)).toEqual({
        type: 'result',
        from: TEST_DOMAIN,
        errorType: null,
        condition: null,
      });
      expect(await h<IqSummary>(alice, 'unknownIq', TEST_DOMAIN)).toEqual({
        type: 'error',
        from: TEST_DOMAIN,
        errorType: 'cancel',
        condition: 'service-unavailable',
      });
    });
  });

  it('two tabs chat: full JID, bare JID, and a reply, with the sender full JID in from (RFC 6121 §8.5, RFC 6120 §8.1.2.1)', async () => {
    bob = await openTab('bob', site.allowedOrigin);
    await withPageLogs([alice, bob], async () => {
      const bobLogin = await h<{ jid: string; mechanism: string | null }>(bob, 'login', BOB, TEST_PASSWORD, {
        mechanism: 'PLAIN',
      });
      expect(bobLogin.mechanism).toBe('PLAIN');
      const aliceFull = await h<string>(alice, 'jid');
      expect((await h<IqSummary>(alice, 'becomeAvailable', TEST_DOMAIN)).type).toBe('result');
      expect((await h<IqSummary>(bob, 'becomeAvailable', TEST_DOMAIN)).type).toBe('result');

      await h(alice, 'sendChat', bobLogin.jid, 'hello bob (full)');
      const m1 = await h<Chat>(bob, 'waitForChat', 'hello bob (full)');
      expect(m1).toMatchObject({ from: aliceFull, type: 'chat', body: 'hello bob (full)' });

      await h(alice, 'sendChat', BOB, 'hello bob (bare) \u00e9\u{1F600} <&>');
      const m2 = await h<Chat>(bob, 'waitForChat', 'hello bob (bare) \u00e9\u{1F600} <&>');
      expect(m2.from).toBe(aliceFull);

      await h(bob, 'sendChat', m1.from, 'hi alice');
      const reply = await h<Chat>(alice, 'waitForChat', 'hi alice');
      expect(reply.from).toBe(bobLogin.jid);
    });
  });

  it('survives a real page reload: keepalive: true + restore() resumes the BOSH session (XEP-0124 §14 rid continuity)', async () => {
    const carol = await openTab('alice (reloading tab)', site.allowedOrigin);
    await withPageLogs([carol, bob], async () => {
      const login = await h<{ jid: string }>(carol, 'login', ALICE, TEST_PASSWORD, { keepalive: true });
      await h(carol, 'becomeAvailable', TEST_DOMAIN);
      const before = await h<{ jid: string; sid: string; rid: number }>(carol, 'storedSession');
      expect(before).toMatchObject({ jid: login.jid });
      // The tab's one request out is the poll the gateway holds with nothing queued for it
      // (XEP-0124 §8): the reload aborts nothing else.
      const session = () => gateway.transport.session(before.sid);
      await until(
        'the tab idle, its poll held by the gateway',
        async () => (await h<boolean>(carol, 'idle')) && session()?.heldCount === 1 && session()?.queuedCount === 0,
        5_000,
        20,
      );

      // Reloading aborts the in-flight long poll; sessionStorage survives.
      await carol.page.reload();
      await carol.page.waitForFunction(() => (globalThis as any).harness !== undefined); // eslint-disable-line @typescript-eslint/no-explicit-any
      const restored = await h<{ status: string; jid: string }>(carol, 'restore', ALICE);
      expect(restored).toEqual({ status: 'ATTACHED', jid: login.jid });

      expect((await h<IqSummary>(carol, 'ping', TEST_DOMAIN)).type).toBe('result');
      await h(bob, 'sendChat', login.jid, 'welcome back');
      const m = await h<Chat>(carol, 'waitForChat', 'welcome back');
      expect(m.from).toMatch(FULL_JID('bob'));

      expect(await h<string[]>(carol, 'disconnect')).toEqual(['DISCONNECTING', 'DISCONNECTED']);
    });
  });

  it('disconnect() ends cleanly (XEP-0124 §13)', async () => {
    await withPageLogs([alice], async () => {
      expect(await h<string[]>(alice, 'disconnect')).toEqual(['DISCONNECTING', 'DISCONNECTED']);
    });
  });
});

describe('CORS: only the configured origin may talk to the gateway', () => {
  it('a page on the allowed origin can POST a BOSH session request with fetch() (control)', async () => {
    const tab = await openTab('allowed origin (fetch)', site.allowedOrigin);
    await withPageLogs([tab], async () => {
      const res = await h<FetchResult>(tab, 'fetchCreateSession', 'text/xml; charset=utf-8');
      expect(res.error).toBeNull();
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/\bsid=["'][^"']+["']/);
    });
  });

  it('a page on another origin is refused by the browser: fetch() rejects and XHR gets status 0 + error', async () => {
    const tab = await openTab('other origin', site.otherOrigin);
    await withPageLogs([tab], async () => {
      // Pre-flighted (text/xml is not a CORS-safelisted Content-Type).
      const preflighted = await h<FetchResult>(tab, 'fetchCreateSession', 'text/xml; charset=utf-8');
      expect(preflighted.ok).toBe(false);
      expect(preflighted.error).toMatch(/^TypeError/);

      // A "simple" request (no pre-flight) still must not be readable.
      const simple = await h<FetchResult>(tab, 'fetchCreateSession', 'text/plain');
      expect(simple.ok).toBe(false);
      expect(simple.error).toMatch(/^TypeError/);

      const xhr = await h<{ status: number; readyState: number; responseText: string; events: string[] }>(tab, 'xhrCreateSession');
      expect(xhr).toEqual({ status: 0, readyState: 4, responseText: '', events: ['error'] });
      expect(tab.log.join('\n')).toMatch(/CORS policy/);
    });
  });

  it('pre-flight and actual responses echo the allowed Origin, never the refused one (as seen from Node)', async () => {
    const preflight = (origin: string) =>
      rawRequest(gateway.boshUrl, 'OPTIONS', undefined, {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      });

    const ok = await preflight(site.allowedOrigin);
    expect(ok.status).toBeGreaterThanOrEqual(200);
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers['access-control-allow-origin']).toBe(site.allowedOrigin);
    expect(String(ok.headers['access-control-allow-methods'] ?? '')).toMatch(/\bPOST\b/i);
    expect(String(ok.headers['access-control-allow-headers'] ?? '').toLowerCase()).toMatch(/\bcontent-type\b/);

    const refused = await preflight(site.otherOrigin);
    expect(refused.headers['access-control-allow-origin']).not.toBe(site.otherOrigin);
    expect(refused.headers['access-control-allow-origin']).not.toBe('*');

    const actual = await postXml(
      gateway.boshUrl,
      `<body xmlns='http://jabber.org/protocol/httpbind' rid='${1000 + Math.floor(Math.random() * 1e6)}' to='${TEST_DOMAIN}' wait='1' hold='1' ver='1.6'/>`,
      { Origin: site.allowedOrigin },
    );
    expect(actual.status).toBe(200);
    expect(actual.headers['access-control-allow-origin']).toBe(site.allowedOrigin);
  });
});
