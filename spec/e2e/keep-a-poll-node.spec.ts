/**
 * End-to-end: two hand-written BOSH clients that keep one poll outstanding (support/
 * keep-a-poll-client.ts) chat through one gateway node started in-process. The same scenarios run
 * through the nginx cluster in cluster-clients.spec.ts. The per-session stanza rate limit is raised:
 * it is not the subject here, and the chat runs as fast as the round trips allow.
 */
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { describeKeepAPollChat } from './support/keep-a-poll-scenarios';

let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway({ BOSH_MAX_WAIT: '60', STANZAS_PER_SECOND: '1000', STANZA_BURST: '1000' });
});

afterAll(async () => {
  await gateway?.close();
});

describeKeepAPollChat('against one node', {
  url: () => gateway.boshUrl,
  domain: TEST_DOMAIN,
  password: TEST_PASSWORD,
  users: ['alice', 'bob'],
  wait: 60,
  turns: 120,
});
