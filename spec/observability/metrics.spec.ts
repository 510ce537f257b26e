import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient, post } from '../support/bosh-client';

/** Reads one sample from the Prometheus text format ('name{labels} value'). */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('/metrics after a scripted session', () => {
  let node: RunningNode;
  const scrape = async (): Promise<string> => (await fetch(node.metricsUrl as string)).text();
  /** Scrapes until `ready` holds (bounded): counters are updated as the responses finish. */
  const scrapeWhen = async (ready: (text: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const text = await scrape();
      if (ready(text) || Date.now() > deadline) return text;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  beforeAll(async () => {
    node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
  });
  afterAll(() => node.close());

  it('counts sessions, held requests, stanzas, logins, delivery latency and terminal conditions', async () => {
    const before = await scrape();
    const alice = await BoshTestClient.login(node.boshUrl, 'alice', 'a', 'm');
    const bob = await BoshTestClient.login(node.boshUrl, 'bob', 'b', 'm');
    bob.send(`<presence xmlns='jabber:client'/>`);
    // A session's stanzas are handled in order: once the ping is answered, bob is available.
    await bob.iq(`<iq type='get' id='after-presence' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after-presence');
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><body>count me</body></message>`);
    await bob.waitFor((e) => e.getChildText('body') === 'count me');

    const during = await scrapeWhen((text) => sample(text, 'xmpp_delivery_latency_seconds_count') >= 1 && sample(text, 'bosh_held_requests') === 2);
    expect(sample(during, 'bosh_sessions')).toBe(2);
    expect(sample(during, 'xmpp_sessions', 'state="bound"')).toBe(2);
    // Each client keeps one request held.
    expect(sample(during, 'bosh_held_requests')).toBe(2);
    expect(sample(during, 'bosh_sessions_opened_total') - sample(before, 'bosh_sessions_opened_total')).toBe(2);
    expect(sample(during, 'xmpp_auth_total', 'mechanism="PLAIN",outcome="success"')).toBe(2);
    expect(sample(during, 'xmpp_stanzas_total', 'direction="in",type="message"')).toBe(1);
    expect(sample(during, 'xmpp_stanzas_total', 'direction="out",type="message"')).toBe(1);
    expect(sample(during, 'xmpp_stanzas_total', 'direction="in",type="presence"')).toBe(1);
    expect(sample(during, 'xmpp_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'bosh_requests_total', 'outcome="ok",condition=""')).toBeGreaterThanOrEqual(8);

    // A bad body and an unknown sid are counted by their §17 condition.
    await post(node.boshUrl, 'not xml');
    await post(node.boshUrl, `<body rid='1' sid='nope' xmlns='http://jabber.org/protocol/httpbind'/>`);
    await alice.terminate();
    await bob.terminate();
    const after = await scrape();
    expect(sample(after, 'bosh_requests_total', 'outcome="terminal",condition="bad-request"')).toBe(1);
    expect(sample(after, 'bosh_requests_total', 'outcome="terminal",condition="item-not-found"')).toBe(1);
    expect(sample(after, 'bosh_sessions_closed_total', 'reason="terminate"')).toBe(2);
    expect(sample(after, 'bosh_sessions')).toBe(0);
    // Node process metrics are there too, and no label carries a sid or a JID.
    expect(after).toContain('process_resident_memory_bytes');
    expect(after).not.toMatch(/localhost|alice|bob|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('counts a failed login', async () => {
    await expect(BoshTestClient.login(node.boshUrl, 'alice', 'wrong', 'x')).rejects.toThrow(/login failed/);
    expect(sample(await scrape(), 'xmpp_auth_total', 'mechanism="PLAIN",outcome="failure"')).toBe(1);
  });
});

describe('health and readiness', () => {
  it('/healthz is ok, /readyz is ready until the node drains', async () => {
    const node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${node.url}/readyz`)).json()).toEqual({ status: 'ready' });
    await node.close();
  });

  it('serves metrics on a separate listener when METRICS_PORT is set, and not on the public one', async () => {
    const node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', METRICS_PORT: '0', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
    expect(node.metricsUrl).not.toContain(node.url);
    expect((await fetch(node.metricsUrl as string)).status).toBe(200);
    expect((await fetch(`${node.url}/metrics`)).status).toBe(404);
    await node.close();
  });
});
