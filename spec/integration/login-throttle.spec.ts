import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { bodyOf, BoshClient, NS_SASL } from './support/bosh-client';

/**
 * Brute force without lockout (docs/security.md "Login throttling"): an attacker hammering an
 * account from one address gets slowed down, and the right password from that same address still
 * gets in at once. Every attempt comes from 127.0.0.1 over real HTTP.
 */

const ATTEMPTS = 500;
/** The bound for the real user's login after the attack. */
const LOGIN_DEADLINE_MS = 5000;

/** Everything the gateway needs for one address to drive hundreds of sessions: raised on purpose. */
const LOAD_FROM_ONE_ADDRESS = { NEW_SESSIONS_PER_ADDRESS: '100000' };

function startThrottledNode(settings: Record<string, string>): Promise<RunningNode> {
  return startNode(
    loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:secret', LOG_LEVEL: 'silent', BOSH_MAX_WAIT: '10', ...LOAD_FROM_ONE_ADDRESS, ...settings }),
  );
}

/** Rejects when `work` has not finished by the deadline: the functional bound, not a speed figure. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * One PLAIN attempt in the client's session: the SASL answer's condition ('success' for success).
 * A failure may be answered late (that is the throttle), so empty responses are polled again.
 */
async function attempt(client: BoshClient, password: string): Promise<{ answer: string; ended: boolean }> {
  const data = Buffer.from(`\0alice\0${password}`).toString('base64');
  let inner = `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${data}</auth>`;
  for (;;) {
    const body = bodyOf(await client.send(inner));
    inner = '';
    const sasl = body.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS_SASL);
    const ended = body.attrs.type === 'terminate';
    if (sasl) {
      const condition = sasl.name === 'failure' ? (sasl.children.find((c): c is Element => typeof c !== 'string' && c.name !== 'text')?.name ?? '') : sasl.name;
      return { answer: condition, ended };
    }
    if (ended) throw new Error(`session ended without a SASL answer: ${body.toString()}`);
  }
}

/** An attacker's worker: sessions one after another, wrong passwords until the shared budget is spent. */
async function hammer(baseUrl: string, budget: { left: number }, answers: string[]): Promise<void> {
  while (budget.left > 0) {
    const client = new BoshClient(baseUrl);
    await client.create();
    let ended = false;
    while (!ended && budget.left > 0) {
      budget.left--;
      const result = await attempt(client, `guess-${budget.left}`);
      answers.push(result.answer);
      // MAX_AUTH_FAILURES: the stream closes after its third failure; the attacker opens another.
      ended = result.ended;
    }
    if (!ended) await client.send('', "type='terminate'");
  }
}

async function attack(node: RunningNode, workers: number): Promise<string[]> {
  const answers: string[] = [];
  const budget = { left: ATTEMPTS };
  await Promise.all(Array.from({ length: workers }, () => hammer(node.url, budget, answers)));
  return answers;
}

function metric(text: string, line: RegExp): number {
  const match = line.exec(text);
  return match ? Number(match[1]) : 0;
}

async function scrape(node: RunningNode): Promise<string> {
  return (await fetch(node.metricsUrl as string)).text();
}

/** The real user: a full login (SASL, restart, bind) from the same address, then a ping. */
async function realUserLogsIn(node: RunningNode): Promise<Element> {
  const alice = new BoshClient(node.url);
  await alice.loginPlain('alice', 'secret', 'phone');
  return alice.ping();
}

describe('500 wrong passwords hammered in parallel from one address, with the default delays', () => {
  let node: RunningNode;
  let answers: string[];
  beforeAll(async () => {
    node = await startThrottledNode({});
    answers = await attack(node, 25);
  });
  afterAll(async () => {
    await node.close();
  });

  it('answers every guess not-authorized or, past the pending bound, temporary-auth-failure: never success', () => {
    expect(answers).toHaveLength(ATTEMPTS);
    expect(answers.filter((a) => a !== 'not-authorized' && a !== 'temporary-auth-failure')).toEqual([]);
    expect(answers.filter((a) => a === 'not-authorized').length).toBeGreaterThan(0);
    expect(answers.filter((a) => a === 'temporary-auth-failure').length).toBeGreaterThan(0);
  });

  it(`then lets the right password in from the same address within ${LOGIN_DEADLINE_MS / 1000} s`, async () => {
    const pong = await within(LOGIN_DEADLINE_MS, 'the real user’s login', realUserLogsIn(node));
    expect(pong.attrs.type).toBe('result');
  });

  it('shows the throttle in /metrics: failures answered late and attempts turned away', async () => {
    const text = await scrape(node);
    const delayed = metric(text, /^xmpp_auth_throttled_total\{scope="pair"\} (\d+)$/m);
    expect(delayed).toBe(answers.filter((a) => a === 'not-authorized').length);
    expect(metric(text, /^xmpp_auth_turned_away_total\{scope="pair"\} (\d+)$/m)).toBe(answers.filter((a) => a === 'temporary-auth-failure').length);
    expect(metric(text, /^xmpp_auth_failure_delay_seconds_count (\d+)$/m)).toBe(delayed);
    expect(metric(text, /^xmpp_auth_total\{mechanism="PLAIN",outcome="success"\} (\d+)$/m)).toBe(1);
  });
});

describe('500 wrong passwords from one address, every one checked and counted (short delays so the test stays quick)', () => {
  let node: RunningNode;
  let answers: string[];
  beforeAll(async () => {
    // Every attempt waits its turn instead of being turned away, so all 500 are counted; the
    // delays are scaled down from the defaults (250 ms doubling to 2 s) only to keep the run short.
    node = await startThrottledNode({
      AUTH_FAILURE_DELAY_MS: '1',
      AUTH_FAILURE_DELAY_MAX_MS: '4',
      AUTH_ACCOUNT_DELAY_MAX_MS: '2',
      AUTH_PENDING_PER_PAIR: '1000',
      AUTH_PENDING_PER_ADDRESS: '1000',
    });
    answers = await attack(node, 25);
  });
  afterAll(async () => {
    await node.close();
  });

  it('refuses all 500, each after its delay', async () => {
    expect(answers).toEqual(new Array<string>(ATTEMPTS).fill('not-authorized'));
    const text = await scrape(node);
    expect(metric(text, /^xmpp_auth_throttled_total\{scope="pair"\} (\d+)$/m)).toBe(ATTEMPTS);
    // One at a time, each failure counted once: 1 ms, 2 ms, then the 4 ms cap for the other 498.
    expect(Number(/^xmpp_auth_failure_delay_seconds_sum (\S+)$/m.exec(text)?.[1])).toBeCloseTo(0.001 + 0.002 + 0.004 * (ATTEMPTS - 2), 6);
  });

  it(`then lets the right password in from the same address within ${LOGIN_DEADLINE_MS / 1000} s`, async () => {
    const pong = await within(LOGIN_DEADLINE_MS, 'the real user’s login', realUserLogsIn(node));
    expect(pong.attrs.type).toBe('result');
  });
});
