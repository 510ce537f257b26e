import { EventHub, type GatewayEventHub, type MessageRouted } from '../../../src/events';
import { createLogger } from '../../../src/observability/logger';
import type { WebhookStores } from '../../../src/store/webhook-store';
import { WebhookService, type Poster, type WebhookSettings } from '../../../src/webhooks';

export const DOMAIN = 'example.test';

/** Short waits, so that real sockets fail and recover quickly; nothing here asserts on time. */
export const FAST: WebhookSettings = {
  retry: { maxAttempts: 8, baseDelayMs: 10, maxDelayMs: 100, maxAgeMs: 60_000 },
  defaultTimeoutMs: 300,
  pollMs: 50,
  keepAliveMs: 100,
  maxSinks: 10,
  refreshMs: 200,
  bufferMax: 10_000,
};

export function startService(stores: WebhookStores, options: { settings?: Partial<WebhookSettings>; post?: Poster; hub?: GatewayEventHub } = {}) {
  const hub = options.hub ?? new EventHub({ logger: createLogger('silent') });
  const service = new WebhookService({
    stores,
    fileSinks: [],
    events: hub,
    domain: DOMAIN,
    settings: { ...FAST, ...options.settings, retry: { ...FAST.retry, ...options.settings?.retry } },
    logger: createLogger('silent'),
    post: options.post,
  });
  return { hub, service };
}

let counter = 0;

/** What the router reports for a one-to-one chat message. */
export function chat(body: string, from = `alice@${DOMAIN}/web`, to = `bob@${DOMAIN}`): MessageRouted {
  counter += 1;
  const id = `m${counter}`;
  return {
    node: 'local',
    at: new Date(),
    from,
    to,
    type: 'chat',
    id,
    stanza: `<message xmlns='jabber:client' from='${from}' to='${to}' type='chat' id='${id}'><body>${body}</body></message>`,
    recipients: [`${to}/phone`],
    remote: false,
  };
}

/** Polls a state the test cannot subscribe to (a store's contents) until it holds; the test's timeout bounds it. */
export async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}
