import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { EventName } from '../../src/events';
import { BoshTestClient } from '../support/bosh-client';

const EVENTS: readonly EventName[] = ['messageRouted', 'messageStored', 'messageBounced', 'presenceChanged', 'sessionStarted', 'sessionEnded', 'rosterChanged'];

/** Reads one sample from the Prometheus text format. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const chat = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;

describe('a failing or stuck event subscriber does not hold up the node', () => {
  let node: RunningNode;
  const clients: BoshTestClient[] = [];
  let stuck = 0;
  const routed: string[] = [];

  beforeAll(async () => {
    node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
    for (const event of EVENTS) {
      node.events.on(event, () => {
        throw new Error(`a subscriber of ${event} with a bug`);
      });
      node.events.on(event, () => {
        stuck++;
        return new Promise<void>(() => undefined);
      });
    }
    node.events.on('messageRouted', (event) => void routed.push(event.id ?? ''));
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await node.close();
  });

  it('keeps messages flowing both ways between two users, and the node answering, while every subscriber fails or never finishes', async () => {
    const alice = await BoshTestClient.login(node.boshUrl, 'alice', 'a', 'desk');
    const bob = await BoshTestClient.login(node.boshUrl, 'bob', 'b', 'phone');
    clients.push(alice, bob);
    alice.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence xmlns='jabber:client'/>`);
    await alice.iq(`<iq type='get' id='ready-a' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'ready-a');
    await bob.iq(`<iq type='get' id='ready-b' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'ready-b');
    for (let i = 1; i <= 5; i++) {
      alice.send(`<message to='${bob.jid}' type='chat' id='ab${i}' xmlns='jabber:client'><body>to bob ${i}</body></message>`);
      await bob.waitFor(chat(`to bob ${i}`));
      bob.send(`<message to='${alice.jid}' type='chat' id='ba${i}' xmlns='jabber:client'><body>to alice ${i}</body></message>`);
      await alice.waitFor(chat(`to alice ${i}`));
    }
    // Every message was reported to the subscriber that works, in order.
    expect(routed).toEqual(['ab1', 'ba1', 'ab2', 'ba2', 'ab3', 'ba3', 'ab4', 'ba4', 'ab5', 'ba5']);
    expect(stuck).toBeGreaterThanOrEqual(10);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
  });

  it('counts the failures by event in events_subscriber_failures_total', async () => {
    const text = await (await fetch(node.metricsUrl as string)).text();
    expect(sample(text, 'events_subscriber_failures_total', 'event="messageRouted"')).toBeGreaterThanOrEqual(10);
    expect(sample(text, 'events_subscriber_failures_total', 'event="sessionStarted"')).toBe(2);
    expect(sample(text, 'events_subscriber_failures_total', 'event="presenceChanged"')).toBeGreaterThanOrEqual(2);
  });

  it('still lets a new session log in and stop cleanly', async () => {
    const again = await BoshTestClient.login(node.boshUrl, 'alice', 'a', 'second');
    clients.push(again);
    const ping = await again.iq(`<iq type='get' id='still-up' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'still-up');
    expect(ping.attrs.type).toBe('result');
    await again.terminate();
  });
});
