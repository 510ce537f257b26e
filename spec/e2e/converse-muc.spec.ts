/**
 * End-to-end: Converse.js in headless Chromium (Debian's chromium via playwright-core, the page on
 * another origin as in converse.spec.ts) in a room of the MUC service (XEP-0045). alice's Converse
 * joins the room at login (auto_join_rooms), shows groupchat bob sends from Node (the test's strict
 * BOSH client), sends groupchat typed in the room's textarea that bob receives, and after a page
 * reload shows the room's history again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Element } from 'ltx';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { startNode, type RunningNode } from '../../src/app';
import { BoshTestClient } from '../support/bosh-client';
import { startConverseSite, type ConverseSite } from './support/converse-site';
import { startDeadEndProxy, type DeadEndProxy } from './support/dead-end-proxy';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';
import { until } from './support/until';

const PASSWORD = 'secret';
const ROOM = 'lounge@conference.localhost';

let site: ConverseSite;
let proxy: DeadEndProxy;
let gateway: RunningNode;
let userDataDir: string;
let context: BrowserContext;
let page: Page;
let bob: BoshTestClient;
const pageLog: string[] = [];

/** A failure shows what the page did last. */
async function withPageLog<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    (err as Error).message += `\n--- page log (last 40) ---\n${pageLog.slice(-40).join('\n')}`;
    throw err;
  }
}

const roomText = (text: string) => page.locator('converse-muc .chat-msg__text', { hasText: text }).first();

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this suite needs Debian's Chromium`);
  site = await startConverseSite();
  proxy = await startDeadEndProxy();
  gateway = await startNode(
    loadConfig({
      PORT: '0',
      STORAGE: 'memory',
      USERS: `alice:${PASSWORD},bob:${PASSWORD}`,
      CORS_ORIGINS: site.origin,
      LOG_LEVEL: 'silent',
      WEB_CLIENT: 'false',
    }),
  );
  // bob is in the room first, so alice's Converse finds it there (and bob sees her come in).
  bob = await BoshTestClient.login(gateway.boshUrl, 'bob', PASSWORD, 'node');
  bob.send(`<presence xmlns='jabber:client'/>`);
  bob.send(`<presence to='${ROOM}/bob' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  await bob.waitFor((e: Element) => e.name === 'message' && e.attrs.from === ROOM && e.getChild('subject') !== undefined, 5000, 'the subject');
  // bob created the room: he accepts the default configuration (XEP-0045 §10.1.2), which unlocks it for alice.
  const unlocked = await bob.iq(
    `<iq type='set' id='instant' to='${ROOM}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
    'instant',
  );
  expect(unlocked.attrs.type).toBe('result');
  bob.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>Said before alice came in.</body></message>`);
  site.configure({
    bosh_service_url: gateway.boshUrl,
    discover_connection_methods: false,
    authentication: 'login',
    auto_login: true,
    jid: 'alice@localhost',
    password: PASSWORD,
    keepalive: true,
    view_mode: 'fullscreen',
    assets_path: '/dist/',
    i18n: 'en',
    loglevel: 'info',
    blacklisted_plugins: ['converse-omemo', 'converse-omemo-views'],
    muc_search_service: '',
    play_sounds: false,
    show_desktop_notifications: false,
    auto_join_rooms: [ROOM],
    muc_nickname_from_jid: true,
  });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosh-e2e-converse-muc-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    proxy: { server: proxy.url, bypass: '127.0.0.1' },
  });
  page = await context.newPage();
  page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
  page.on('request', (r) => {
    if (r.url() === gateway.boshUrl && r.method() === 'POST') pageLog.push(`SENT ${r.postData() ?? ''}`);
  });
}, 30_000);

afterAll(async () => {
  await bob?.terminate().catch(() => undefined);
  await context?.close().catch(() => undefined);
  await site?.close();
  await proxy?.close();
  await gateway?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}, 30_000);

describe('Converse.js in a room of the MUC service', () => {
  it('joins the room at login and shows its history and bob’s groupchat', async () => {
    await withPageLog(async () => {
      await page.goto(`${site.origin}/`);
      await roomText('Said before alice came in.').waitFor({ timeout: 20_000 });
      await bob.waitFor((e: Element) => e.name === 'presence' && e.attrs.from === `${ROOM}/alice` && e.attrs.type === undefined, 10_000, 'alice in the room');
      bob.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>Welcome, alice!</body></message>`);
      await roomText('Welcome, alice!').waitFor({ timeout: 10_000 });
    });
  });

  it('sends groupchat typed in the room’s textarea, which bob receives from alice’s occupant JID', async () => {
    await withPageLog(async () => {
      const textarea = page.locator('converse-muc textarea.chat-textarea').first();
      await textarea.click();
      await textarea.fill('Thanks, bob. Typed into Converse.js.');
      await textarea.press('Enter');
      const received = await bob.waitFor(
        (e: Element) => e.name === 'message' && e.getChildText('body') === 'Thanks, bob. Typed into Converse.js.',
        10_000,
        'alice’s groupchat',
      );
      expect(received.attrs).toMatchObject({ from: `${ROOM}/alice`, type: 'groupchat' });
      expect(received.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(ROOM);
    });
  });

  it('shows the room’s messages again after a page reload', async () => {
    await withPageLog(async () => {
      await page.reload();
      await roomText('Welcome, alice!').waitFor({ timeout: 20_000 });
      await roomText('Thanks, bob. Typed into Converse.js.').waitFor({ timeout: 10_000 });
      // Converse read the room's archive (XEP-0313, the latest page) rather than only its own cache.
      expect(pageLog.some((l) => l.startsWith('SENT') && l.includes(`to="${ROOM}"`) && l.includes('xmlns="urn:xmpp:mam:2"') && l.includes('<before/>'))).toBe(
        true,
      );
    });
  });

  it('creates a room itself: on status 201 it accepts the instant room (XEP-0045 §10.1.2), so the locked room opens for bob', async () => {
    await withPageLog(async () => {
      const FRESH = 'fresh@conference.localhost';
      await page.evaluate(async (jid) => {
        await (globalThis as any).converseApi.rooms.open(jid, { nick: 'alice' }); // eslint-disable-line @typescript-eslint/no-explicit-any
        return true;
      }, FRESH);
      await until(
        'Converse to accept the new room’s configuration',
        async () => (await gateway.stores.rooms.room('fresh'))?.config.locked === false,
        20_000,
        50,
      );
      expect(await gateway.stores.rooms.affiliation('fresh', 'alice@localhost')).toBe('owner');
      bob.send(`<presence to='${FRESH}/bob' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
      const self = await bob.waitFor(
        (e: Element) => e.name === 'presence' && e.attrs.from === `${FRESH}/bob` && e.attrs.type === undefined,
        10_000,
        'bob in the new room',
      );
      expect(self.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item')?.attrs.affiliation).toBe('none');
    });
  });
});
