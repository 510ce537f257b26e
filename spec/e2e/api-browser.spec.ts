/**
 * End-to-end in a real browser: a session prebound through the business API (POST /sessions) is
 * attached by Strophe.js's browser bundle in headless Chromium (Debian's /usr/bin/chromium, driven
 * by playwright-core), on a page of another origin than the gateway, and chats with a Strophe.js
 * client in Node. The page does what docs/api.md shows: attach(jid, sid, rid, callback, wait, hold).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium';
import { startGateway, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { startStaticSite, type StaticSite } from './support/static-site';
import { StropheClient, destroyXhrAgents } from './support/strophe-client';

const KEY = 'browser-key-0123456789abcdef';

let site: StaticSite;
let gateway: RunningGateway;
let userDataDir: string;
let context: BrowserContext;
let alice: StropheClient | undefined;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  site = await startStaticSite();
  gateway = await startGateway({ CORS_ORIGINS: site.allowedOrigin, API_KEYS: `web:${KEY}`, API_TOKEN_SECRET: 'browser-token-secret-0123456789abcdef' });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosh-e2e-api-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
}, 30_000);

afterAll(async () => {
  await alice?.close();
  destroyXhrAgents();
  await context?.close().catch(() => undefined);
  await site?.close();
  await gateway?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}, 30_000);

interface Prebound {
  jid: string;
  sid: string;
  rid: number;
  wait: number;
  hold: number;
}

/** In the page: attach to the prebound session, send initial presence, keep what chat messages arrive. */
async function attachInPage(page: Page, bosh: string, session: Prebound): Promise<string> {
  return page.evaluate(
    ({ bosh, session }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = globalThis as any;
      const { Strophe, $pres } = w;
      const conn = new Strophe.Connection(bosh);
      w.prebound = { conn, received: [] as string[] };
      conn.addHandler(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (message: any) => {
          w.prebound.received.push(Strophe.getText(message.getElementsByTagName('body')[0]));
          return true;
        },
        null,
        'message',
        'chat',
      );
      return new Promise<string>((resolve, reject) => {
        conn.attach(
          session.jid,
          session.sid,
          session.rid,
          (status: number) => {
            if (status === Strophe.Status.ATTACHED) {
              conn.send($pres());
              resolve(conn.jid as string);
            } else if (status === Strophe.Status.CONNFAIL || status === Strophe.Status.DISCONNECTED) reject(new Error(`status ${status}`));
          },
          session.wait,
          session.hold,
        );
      });
    },
    { bosh, session },
  );
}

describe('a prebound session in Chromium', () => {
  it('is attached by Strophe.js in the page and chats both ways with a Node client', async () => {
    const res = await request(gateway.url).post('/api/v1/sessions').set('Authorization', `Bearer ${KEY}`).send({ username: 'bob', resource: 'tab' });
    expect(res.status).toBe(201);
    const page = await context.newPage();
    await page.goto(`${site.allowedOrigin}/?bosh=${encodeURIComponent(gateway.boshUrl)}`);
    await page.waitForFunction(() => (globalThis as { Strophe?: unknown }).Strophe !== undefined, undefined, { timeout: 5_000 });
    expect(await attachInPage(page, gateway.boshUrl, res.body as Prebound)).toBe('bob@localhost/tab');

    alice = new StropheClient('alice', gateway.boshUrl);
    await alice.login('alice@localhost', TEST_PASSWORD);
    await alice.becomeAvailable();
    alice.sendChat('bob@localhost/tab', 'hello tab');
    await page.waitForFunction(() => (globalThis as { prebound?: { received: string[] } }).prebound?.received.includes('hello tab'), undefined, {
      timeout: 5_000,
    });
    const aliceJid = alice.jid;
    await page.evaluate((to) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = globalThis as any;
      w.prebound.conn.send(w.$msg({ to, type: 'chat' }).c('body').t('hello alice'));
    }, aliceJid);
    const reply = await alice.waitForChat('hello alice');
    expect(reply.getAttribute('from')).toBe('bob@localhost/tab');
    await page.close();
  });
});
