/**
 * End-to-end: StanzaJS 12 (npm `stanza`, its Node build: BOSH over the global fetch()) against one
 * gateway node started in-process with startNode(), with a Strophe.js user on the other side. It
 * backs the StanzaJS section of docs/clients.md. The scenarios (support/stanza-scenarios.ts) run
 * through the nginx cluster too, in cluster-clients.spec.ts.
 */
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { describeStanzaJsOverBosh } from './support/stanza-scenarios';
import { destroyXhrAgents } from './support/strophe-client';

let gateway: RunningGateway;

beforeAll(async () => {
  // A wait longer than any bound in the scenarios: a stalled message fails them, it cannot pass late.
  gateway = await startGateway({ BOSH_MAX_WAIT: '60' });
});

afterAll(async () => {
  destroyXhrAgents();
  await gateway?.close();
});

describeStanzaJsOverBosh('against one node', {
  boshUrl: () => gateway.boshUrl,
  domain: TEST_DOMAIN,
  password: TEST_PASSWORD,
  stanzaUser: 'alice',
  stropheUser: 'bob',
});
