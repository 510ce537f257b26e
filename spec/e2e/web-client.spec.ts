/**
 * The gateway's own try-it page (src/web/, WEB_CLIENT and WEB_CLIENT_PATH) in headless Chromium,
 * driven like a person would: through labels and buttons. The page is served by the gateway, so
 * its BOSH requests are same-origin (no CORS involved). Two tabs, alice and bob:
 * log in, alice adds bob, bob accepts, both see each other online, chat both ways (message text
 * stays text), a reload of alice's tab resumes the same BOSH session, log out.
 *
 * Needs Debian's /usr/bin/chromium like strophe-browser.spec.ts; without it the suite fails.
 * The screenshot docs/images/web-client.png is written when missing or with UPDATE_SCREENSHOTS=1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startNode, type RunningNode } from '../../src/app';
import type { ConfigError } from '../../src/config';
import { loadConfig } from '../../src/config';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';
import { until } from './support/until';

const SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'images', 'web-client.png');
// Generous for a loaded 2-core machine; a quiet one runs each step well under a second or two.
const STEP_MS = 15_000;
jest.setTimeout(45_000);

const baseEnv = { PORT: '0', STORAGE: 'memory', USERS: 'alice:secret,bob:secret', LOG_LEVEL: 'silent' };

async function withNode<T>(env: Record<string, string>, fn: (node: RunningNode) => Promise<T>): Promise<T> {
  const node = await startNode(loadConfig({ ...baseEnv, ...env }));
  try {
    return await fn(node);
  } finally {
    await node.close();
  }
}

describe('WEB_CLIENT and WEB_CLIENT_PATH', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems.slice();
    }
  };

  it('default to on, at /', () => {
    expect(loadConfig({}).webClient).toEqual({ enabled: true, path: '/' });
    expect(loadConfig({ WEB_CLIENT: 'false' }).webClient.enabled).toBe(false);
  });

  it('a path gets its trailing slash', () => {
    expect(loadConfig({ WEB_CLIENT_PATH: '/try' }).webClient.path).toBe('/try/');
    expect(loadConfig({ WEB_CLIENT_PATH: '/a/b/' }).webClient.path).toBe('/a/b/');
  });

  it.each([
    ['WEB_CLIENT', 'yes'],
    ['WEB_CLIENT_PATH', 'try'],
    ['WEB_CLIENT_PATH', '/a//b'],
    ['WEB_CLIENT_PATH', '/a/../b'],
    ['WEB_CLIENT_PATH', '/a/.'],
    ['WEB_CLIENT_PATH', '/<script>'],
  ])('%s=%s is refused', (name, value) => {
    expect(problems({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=`))]);
  });

  it('may not take the BOSH or metrics path, unless the page is off', () => {
    expect(problems({ WEB_CLIENT_PATH: '/http-bind' })).toEqual([expect.stringMatching(/^WEB_CLIENT_PATH=.*BOSH_PATH/)]);
    expect(problems({ WEB_CLIENT_PATH: '/metrics/' })).toEqual([expect.stringMatching(/^WEB_CLIENT_PATH=/)]);
    expect(problems({ BOSH_PATH: '/', WEB_CLIENT: 'false' })).toEqual([]);
    expect(problems({ BOSH_PATH: '/' })).toEqual([expect.stringMatching(/^WEB_CLIENT_PATH=/)]);
  });
});

describe('web client files', () => {
  it('serves the page, its script and styles, and Strophe.js with the right content types', async () => {
    await withNode({}, async (node) => {
      const page = await request(node.url).get('/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.text).toContain('<meta name="bosh-path" content="/http-bind">');
      expect(page.text).toContain('<script src="strophe.js" defer></script>');

      const script = await request(node.url).get('/client.js');
      expect(script.status).toBe(200);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(script.text).toContain('Strophe.Connection');

      const strophe = await request(node.url).get('/strophe.js');
      expect(strophe.status).toBe(200);
      expect(strophe.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(strophe.text).toContain('Strophe');

      const styles = await request(node.url).get('/client.css');
      expect(styles.status).toBe(200);
      expect(styles.headers['content-type']).toBe('text/css; charset=utf-8');

      // res.send's ETag: a reload revalidates instead of downloading Strophe again.
      const again = await request(node.url).get('/strophe.js').set('If-None-Match', String(strophe.headers.etag));
      expect(again.status).toBe(304);
    });
  });

  it('WEB_CLIENT=false: no page, no script', async () => {
    await withNode({ WEB_CLIENT: 'false' }, async (node) => {
      expect((await request(node.url).get('/')).status).toBe(404);
      expect((await request(node.url).get('/strophe.js')).status).toBe(404);
      expect((await request(node.url).get('/client.js')).status).toBe(404);
    });
  });

  it('WEB_CLIENT_PATH moves it; the path without its slash redirects', async () => {
    await withNode({ WEB_CLIENT_PATH: '/try', BOSH_PATH: '/bosh' }, async (node) => {
      expect((await request(node.url).get('/')).status).toBe(404);
      const redirect = await request(node.url).get('/try?x=1');
      expect(redirect.status).toBe(301);
      expect(redirect.headers.location).toBe('/try/?x=1');
      const page = await request(node.url).get('/try/');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<meta name="bosh-path" content="/bosh">');
      expect((await request(node.url).get('/try/strophe.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    });
  });
});

interface Tab {
  label: string;
  page: Page;
  log: string[];
  /** BOSH requests in flight (requests to the gateway's BOSH path). */
  inFlight: number;
}

describe('web client in headless Chromium', () => {
  let node: RunningNode;
  let userDataDir: string;
  let context: BrowserContext;
  const tabs: Tab[] = [];
  let alice: Tab;
  let bob: Tab;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the browser e2e suite needs Debian's Chromium (apt-get update && apt-get install -y chromium)`);
    }
    node = await startNode(loadConfig(baseEnv));
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-client-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1000, height: 620 },
    });
  }, 30_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await node?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  }, 30_000);

  async function openTab(label: string): Promise<Tab> {
    const page = await context.newPage();
    const tab: Tab = { label, page, log: [], inFlight: 0 };
    const isBosh = (url: string): boolean => new URL(url).pathname === '/http-bind';
    page.on('console', (m) => tab.log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => tab.log.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (isBosh(r.url())) tab.inFlight += 1;
    });
    const done = (r: { url(): string }): void => {
      if (isBosh(r.url())) tab.inFlight -= 1;
    };
    page.on('requestfinished', done);
    page.on('requestfailed', (r) => {
      done(r);
      tab.log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
    });
    tabs.push(tab);
    await page.goto(`${node.url}/`);
    await page.getByLabel('JID', { exact: true }).waitFor({ timeout: STEP_MS });
    return tab;
  }

  /** On failure, add what the pages said (console, errors, failed requests). */
  async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as Error;
      e.message += tabs.map((t) => `\n\n--- ${t.label} ---\n${t.log.slice(-30).join('\n')}`).join('');
      throw e;
    }
  }

  const visible = (locator: Locator): Promise<void> => locator.waitFor({ state: 'visible', timeout: STEP_MS });
  const status = (tab: Tab): Locator => tab.page.getByRole('status');
  const contacts = (tab: Tab): Locator => tab.page.getByRole('list', { name: 'Contacts' });
  const contact = (tab: Tab, jid: string): Locator => contacts(tab).getByRole('listitem').filter({ hasText: jid });
  const messages = (tab: Tab): Locator => tab.page.getByRole('list', { name: 'Messages' }).getByRole('listitem');

  // Chromium throttles timers and animation frames in background tabs (Strophe's idle loop and
  // Playwright's click checks both slow down), so the tab being used is brought to the front.
  async function logIn(tab: Tab, jid: string, password = 'secret'): Promise<void> {
    await tab.page.bringToFront();
    await tab.page.getByLabel('JID', { exact: true }).fill(jid);
    await tab.page.getByLabel('Password').fill(password);
    await tab.page.getByRole('button', { name: 'Log in' }).click();
  }

  async function openChat(tab: Tab, jid: string): Promise<void> {
    await tab.page.bringToFront();
    await contacts(tab)
      .getByRole('button', { name: new RegExp(`^${jid.replace(/\./g, '\\.')}`) })
      .click();
    await visible(tab.page.getByRole('heading', { name: `Chat with ${jid}` }));
  }

  async function send(tab: Tab, text: string): Promise<void> {
    await tab.page.bringToFront();
    await tab.page.getByLabel('Message', { exact: true }).fill(text);
    await tab.page.getByRole('button', { name: 'Send' }).click();
  }

  /**
   * Until the tab's one BOSH request out is the long poll the gateway holds, with nothing queued for
   * it (XEP-0124 §8), so a reload aborts nothing but that poll.
   */
  async function quiet(tab: Tab, sid: string): Promise<void> {
    const session = () => node.transport.session(sid);
    await until(
      () => `${tab.label}: only the held long poll out (${tab.inFlight} in flight, ${session()?.heldCount} held, ${session()?.queuedCount} queued)`,
      () => tab.inFlight === 1 && session()?.heldCount === 1 && session()?.queuedCount === 0,
      STEP_MS,
      25,
    );
  }

  /** What Strophe's keepalive stored in the tab's sessionStorage (this tsconfig has no DOM types). */
  const storedSession = (tab: Tab): Promise<{ jid: string; sid: string } | null> =>
    tab.page.evaluate(() => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage;
      return JSON.parse(storage.getItem('strophe-bosh-session') ?? 'null') as { jid: string; sid: string } | null;
    });

  it('a wrong password says so and leaves the login form up', async () => {
    const tab = await openTab('wrong password');
    await withLogs(async () => {
      await logIn(tab, 'alice', 'nope');
      await visible(status(tab).filter({ hasText: 'Login failed: wrong JID or password' }));
      await visible(tab.page.getByRole('button', { name: 'Log in' }));
      await tab.page.close();
    });
  });

  it('alice and bob log in in two tabs (a bare name gets the gateway domain)', async () => {
    alice = await openTab('alice');
    bob = await openTab('bob');
    await withLogs(async () => {
      await logIn(alice, 'alice');
      await visible(status(alice).filter({ hasText: /^Online as alice@localhost\/\S+$/ }));
      await logIn(bob, 'bob@localhost');
      await visible(status(bob).filter({ hasText: /^Online as bob@localhost\/\S+$/ }));
      await visible(alice.page.getByText('No contacts yet.'));
      expect(node.transport.sessionCount).toBe(2);
    });
  });

  it('alice adds bob, bob accepts, and each sees the other online', async () => {
    await withLogs(async () => {
      await alice.page.bringToFront();
      await alice.page.getByLabel('Add a contact').fill('bob@localhost');
      await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
      await visible(contact(alice, 'bob@localhost').filter({ hasText: 'waiting for approval' }));

      await visible(bob.page.getByRole('list', { name: 'Subscription requests' }).getByText('alice@localhost wants to see your presence'));
      await bob.page.bringToFront();
      await bob.page.getByRole('button', { name: 'Accept alice@localhost' }).click();

      await visible(contact(alice, 'bob@localhost').filter({ hasText: /\bonline\b/ }));
      await visible(contact(bob, 'alice@localhost').filter({ hasText: /\bonline\b/ }));
      await expect(contact(alice, 'bob@localhost').getAttribute('data-presence')).resolves.toBe('online');
      await expect(contact(bob, 'alice@localhost').getAttribute('data-presence')).resolves.toBe('online');
      // Nothing left to approve on either side, and both subscriptions are mutual.
      await expect(bob.page.getByRole('list', { name: 'Subscription requests' }).isVisible()).resolves.toBe(false);
      await expect(alice.page.getByRole('list', { name: 'Subscription requests' }).isVisible()).resolves.toBe(false);
      await expect(contact(alice, 'bob@localhost').textContent()).resolves.not.toMatch(/waiting|not shared/);
      await expect(contact(bob, 'alice@localhost').textContent()).resolves.not.toMatch(/waiting|not shared/);
    });
  });

  it('alice writes, bob sees it and replies', async () => {
    await withLogs(async () => {
      await openChat(alice, 'bob@localhost');
      await send(alice, 'hello bob');
      await visible(messages(alice).filter({ hasText: 'hello bob' }));

      await visible(contact(bob, 'alice@localhost').filter({ hasText: '1 new' }));
      await openChat(bob, 'alice@localhost');
      await visible(messages(bob).filter({ hasText: 'hello bob' }));
      await send(bob, 'hi alice');
      await visible(messages(alice).filter({ hasText: 'hi alice' }));
      await expect(messages(alice).allTextContents()).resolves.toEqual([
        expect.stringMatching(/^me \S+( [AP]M)? hello bob$/),
        expect.stringMatching(/^bob@localhost \S+( [AP]M)? hi alice$/),
      ]);

      const screenshot = await alice.page.screenshot();
      if (!fs.existsSync(SCREENSHOT) || process.env.UPDATE_SCREENSHOTS === '1') {
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        fs.writeFileSync(SCREENSHOT, screenshot);
      }
    });
  });

  it('message text stays text (no markup reaches the DOM)', async () => {
    const tricky = '<img src=x onerror="window.__xss=1"> & "quotes" <b>bold</b> \u00e9\u{1F600}';
    await withLogs(async () => {
      await send(alice, tricky);
      await visible(messages(bob).filter({ hasText: '<b>bold</b>' }));
      await expect(messages(bob).last().locator('p').textContent()).resolves.toBe(tricky);
      await expect(bob.page.locator('#messages img, #messages b').count()).resolves.toBe(0);
      await expect(bob.page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).resolves.toBeUndefined();
    });
  });

  it('a reload of alice’s tab resumes the same BOSH session (Strophe keepalive + restore)', async () => {
    await withLogs(async () => {
      const before = await storedSession(alice);
      expect(before).not.toBeNull();
      await quiet(alice, before?.sid ?? '');

      await alice.page.bringToFront();
      await alice.page.reload();
      await visible(status(alice).filter({ hasText: `Session resumed as ${before?.jid}` }));
      expect((await storedSession(alice))?.sid).toBe(before?.sid);
      expect(node.transport.sessionCount).toBe(2);

      // What the tab knew is back: contact, presence, the open chat.
      await visible(contact(alice, 'bob@localhost').filter({ hasText: /\bonline\b/ }));
      await visible(alice.page.getByRole('heading', { name: 'Chat with bob@localhost' }));
      await expect(messages(alice).count()).resolves.toBe(3);

      // And the session is live both ways.
      await send(bob, 'welcome back');
      await visible(messages(alice).filter({ hasText: 'welcome back' }));
      await send(alice, 'thanks');
      await visible(messages(bob).filter({ hasText: 'thanks' }));
    });
  });

  it('log out ends the session; bob sees alice go offline', async () => {
    await withLogs(async () => {
      await alice.page.bringToFront();
      await alice.page.getByRole('button', { name: 'Log out' }).click();
      await visible(status(alice).filter({ hasText: 'Logged out' }));
      await visible(alice.page.getByRole('button', { name: 'Log in' }));
      await expect(storedSession(alice)).resolves.toBeNull();
      await visible(contact(bob, 'alice@localhost').filter({ hasText: /\boffline\b/ }));
      expect(node.transport.sessionCount).toBe(1);

      // A reload after logging out asks for a login again.
      await alice.page.reload();
      await visible(alice.page.getByRole('button', { name: 'Log in' }));
      await expect(status(alice).textContent()).resolves.toBe('Not connected');
    });
  });
});
