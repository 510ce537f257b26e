import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { BoshTransport, createBoshHttpHandler, realScheduler } from './bosh';
import type { Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { addressGroup } from './limits/address-group';
import { AuthThrottle } from './limits/auth-throttle';
import { MemoryFailureCounters } from './limits/failure-counters';
import { trustedProxyList } from './bosh/trusted-proxies';
import { WindowCounter } from './limits/window-counter';
import type { AccountStore } from './store/account-store';
import { createStores, type Stores } from './store/create-stores';
import { connectCluster } from './cluster';
import { clusterSid } from './cluster/forwarder';
import { createXmppDomain, type XmppDomain } from './xmpp/domain';
import { storedVCard } from './xmpp/modules/vcard';
import { chatArchiver, registerUserArchive, startRetentionSweep } from './archive';
import { EventHub, type GatewayEventHub } from './events';
import type { ComponentRegistry } from './components';
import { createWebClient } from './web/web-client';
import { MucComponent } from './muc/muc-component';
import { busDelivery } from './muc/bus-delivery';
import { readFileSync } from 'node:fs';
import { createApi, loadApplications, LoginTokens, tokenSecret, TokenValidity } from './api';
import { loadSinksFile, WebhookService } from './webhooks';
import { WebhookMetrics } from './metrics/webhook-metrics';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION = (require('../package.json') as { version: string }).version;

export interface RunningNode {
  /** http://host:port */
  readonly url: string;
  /** The BOSH endpoint: url + BOSH_PATH. */
  readonly boshUrl: string;
  /** Where /metrics is served (the main url unless METRICS_PORT is set); undefined when disabled. */
  readonly metricsUrl: string | undefined;
  readonly transport: BoshTransport;
  /** Every account (USERS / USERS_FILE read-only, then the durable store): what account management calls. */
  readonly accounts: AccountStore;
  readonly stores: Stores;
  readonly metrics: GatewayMetrics;
  readonly xmpp: XmppDomain;
  /** What happens on this node (messages, presence, sessions, rosters): archives, webhooks and statistics subscribe here. */
  readonly events: GatewayEventHub;
  /** Services on subdomains; every node of a cluster registers the same ones. */
  readonly components: ComponentRegistry;
  /** Webhook sinks and their delivery (docs/webhooks.md). */
  readonly webhooks: WebhookService;
  /** Stops taking sessions, ends the live ones with system-shutdown, closes the listeners. */
  close(): Promise<void>;
}

interface NodeState {
  draining: boolean;
  /** Cluster mode: whether Redis is reachable (a node without it cannot take new sessions). */
  redisReady: () => boolean;
  /** Webhook sinks whose deliveries fail: reported in /readyz, never a reason to leave the load balancer. */
  failingWebhooks?: () => readonly object[];
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}

/** Health, readiness and (unless it has a listener of its own) metrics, through express. */
function buildApp(config: Config, metrics: GatewayMetrics, state: NodeState, withMetrics: boolean, api?: express.Router): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (state.draining) res.status(503).json({ status: 'draining' });
    else if (!state.redisReady()) res.status(503).json({ status: 'redis-unreachable' });
    else {
      const failing = state.failingWebhooks?.() ?? [];
      res.json(failing.length > 0 ? { status: 'ready', webhooks: { failing } } : { status: 'ready' });
    }
  });
  if (withMetrics) mountMetrics(app, config.metrics.path, metrics);
  // The business API (docs/api.md); later resources (groups, history) mount inside it.
  if (api) app.use('/api/v1', api);
  if (config.webClient.enabled) app.use(createWebClient({ path: config.webClient.path, boshPath: config.boshPath, domain: config.domain }));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', reason: 'no such endpoint' });
  });
  return app;
}

function mountMetrics(app: express.Express, path: string, metrics: GatewayMetrics): void {
  app.get(path, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

export async function startNode(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningNode> {
  const clustered = config.redisUrl !== undefined;
  let transport: BoshTransport | undefined;
  let xmpp: XmppDomain | undefined;
  let stores: Stores | undefined;
  const metrics = new GatewayMetrics({
    sessions: () => transport?.sessionCount ?? 0,
    boundSessions: () => xmpp?.services.router.boundCount ?? 0,
    heldRequests: () => transport?.heldCount ?? 0,
    offlineMessages: () => stores?.offlineTotal(),
  });

  // Durable data first: a node that cannot open its database or reach Redis does not start.
  const durable = await createStores(config, { logger, redisObserver: clustered ? metrics : undefined });
  stores = durable;

  // The HTTP server listens first (on a port the cluster can announce), but serves only when ready.
  const state: NodeState = { draining: false, redisReady: () => true };
  const server = createServer();
  // Held requests last up to `wait`; idle keep-alive connections a little longer than a proxy's.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 80_000;
  server.requestTimeout = 0;
  let url: string;
  try {
    url = await listen(server, config.port, config.host);
  } catch (err) {
    await durable.close();
    throw err;
  }
  const nodeUrl = config.cluster.nodeUrl.endsWith(':0') ? url : config.cluster.nodeUrl;

  const setup = clustered ? await connectCluster(config, nodeUrl, metrics, logger) : undefined;
  state.redisReady = setup ? () => setup.redisReady() && durable.ready() : () => durable.ready();

  const { limits } = config;
  // The business API, when keys are configured: its login tokens are a password SASL PLAIN accepts.
  const applications = loadApplications(config.api.keys, config.api.keysFile, (path) => readFileSync(path, 'utf8'));
  const tokenValidity = new TokenValidity(durable.documents);
  const loginTokens =
    applications.length > 0 ? new LoginTokens(tokenSecret(config.api.tokenSecret, logger), config.domain, durable.accounts, tokenValidity) : undefined;
  xmpp = createXmppDomain(durable, {
    loginTokens,
    domain: config.domain,
    version: PACKAGE_VERSION,
    scramIterations: config.scramIterations,
    resourceConflict: config.resourceConflict,
    limits: {
      maxAuthFailures: config.maxAuthFailures,
      maxSessionsPerAccount: limits.sessionsPerAccount,
      stanzasPerSecond: limits.stanzasPerSecond,
      stanzaBurst: limits.stanzaBurst,
      maxInboxStanzas: limits.inboxStanzasPerSession,
      loginTimeoutMs: limits.loginTimeoutSeconds * 1000,
    },
    // Cluster mode: counted in Redis, so every node slows the same attacker down.
    authThrottle: new AuthThrottle(
      config.authThrottle,
      setup?.authFailures ?? new MemoryFailureCounters(config.authThrottle.windowSeconds * 1000),
      realScheduler,
      metrics,
    ),
    accountLimits: {
      privateXmlKeys: limits.privateXmlKeysPerAccount,
      privateXmlItemBytes: limits.privateXmlItemBytes,
      vcardBytes: limits.vcardBytes,
      rosterItems: limits.rosterItemsPerAccount,
    },
    // A step failing while Redis is unreachable is an outage (a 'wait' error), not a session fault.
    storesReady: () => durable.ready(),
    logger,
    observer: metrics,
    logStanzas: config.logStanzas,
    cluster: setup?.cluster,
    // One hub per node; a failing subscriber is logged and counted, never the node's failure.
    events: new EventHub({ logger, observer: metrics }),
    // XEP-0313, on by default (MAM_ENABLED): chats archived in the delivery path, stamped with their archive id.
    archive: config.archive.enabled ? chatArchiver(durable.archive, config.domain, logger) : undefined,
    offlineLeaseMs: limits.offlineLeaseSeconds * 1000,
  });
  if (config.archive.enabled) registerUserArchive(xmpp.services.iq, durable.archive);
  const retentionSweep = startRetentionSweep(durable.archive, logger);
  let muc: MucComponent | undefined;
  if (config.muc.enabled) {
    const link = setup?.cluster;
    // Rooms live in the stores, so every node registers the service and serves any room.
    muc = new MucComponent({
      domain: config.muc.domain,
      // Groups the business API creates without an owner are owned by the domain.
      serviceJid: config.domain,
      limits: { maxOccupants: config.muc.maxOccupants, maxRoomsPerSession: config.muc.maxRoomsPerSession },
      // XEP-0045 §10.1.1: a room a user creates by entering it waits for its owner's configuration.
      lockNewRooms: config.muc.lockNewRooms,
      // A vCard request to an occupant JID gets the occupant's stored vCard (its bare JID's answer).
      vcards: (bare) => storedVCard(durable.documents, bare.split('@')[0] ?? bare),
      rooms: durable.rooms,
      archive: durable.archive,
      node: xmpp.services.router.node,
      // Cluster mode: occupants' stanzas go through each node's bus stream, in the room's order (src/muc/bus-delivery.ts).
      delivery: link ? (fallback) => busDelivery(link, fallback) : undefined,
      logger,
      events: xmpp.events,
    });
    xmpp.components.register(muc);
    const service = muc;
    // A session that ends (or vanishes with its node) leaves its rooms, whatever presence it sent.
    const gone = (jid: string): void => {
      service.occupantGone(jid).catch((err: unknown) => logger.warn({ err }, 'could not take a departed session out of its rooms'));
    };
    xmpp.events.on('sessionEnded', (event) => gone(event.jid));
    xmpp.events.on('presenceChanged', (event) => {
      if (!event.available) gone(event.jid);
    });
  }
  const newSessions = new WindowCounter(60_000);
  transport = new BoshTransport({
    limits: config.bosh,
    domains: new Set([config.domain]),
    maxStanzaBytes: config.maxStanzaBytes,
    maxXmlDepth: config.maxXmlDepth,
    maxQueuedStanzas: limits.queuedStanzasPerSession,
    scheduler: realScheduler,
    openStream: xmpp.openStream,
    observer: metrics,
    // A client address opening sessions in a loop is stopped (a runaway reconnect plugin); an IPv6
    // client counts as its /64.
    admit: (address) => address === undefined || newSessions.add(addressGroup(address)) <= limits.newSessionsPerAddressPerMinute,
    remote: setup ? (sid, raw, context, respond) => setup.cluster.forwarder.forward(sid, raw, context, respond) : undefined,
    sidFor: setup ? (uuid) => clusterSid(uuid, config.cluster.nodeId) : undefined,
  });
  const boshTransport = transport;
  const domain = xmpp;
  boshTransport.onSessionStart((session) =>
    logger.debug({ session: session.streamId, wait: session.params.wait, hold: session.params.hold }, 'session opened'),
  );
  boshTransport.onSessionEnd((session, reason) => logger.debug({ session: session.streamId, reason }, 'session closed'));
  // The safety net: the fault is logged with the session's correlation id; that session alone ends.
  boshTransport.onSessionFault((session, err, where) => logger.error({ err, session: session?.streamId, where }, 'session fault; ending the session'));
  if (setup) {
    await setup.cluster.start(boshTransport, domain.services.router, (bare, entry) =>
      domain.services.presence.resourceGone(bare, entry.resource, entry.available),
    );
  }

  const separateMetrics = config.metrics.enabled && config.metrics.port !== undefined;
  const bosh = createBoshHttpHandler(boshTransport, {
    path: config.boshPath,
    maxBodyBytes: config.maxBodyBytes,
    cors: { origins: config.corsOrigins },
    trustedProxies: trustedProxyList(config.trustedProxies),
    clusterSecret: config.cluster.secret,
  });
  // Webhooks: what happens on this node, queued durably and delivered by one worker per sink.
  let webhooks: WebhookService | undefined;
  const webhookMetrics = new WebhookMetrics(
    metrics.registry,
    (limit) => webhooks?.queueFigures(limit) ?? Promise.resolve([]),
    config.webhooks.metricsMaxSinks,
    () => webhooks?.failing() ?? [],
  );
  const hooks = new WebhookService({
    stores: durable.webhooks,
    fileSinks: config.webhooks.file ? loadSinksFile(config.webhooks.file, Date.now()) : [],
    events: domain.events,
    domain: config.domain,
    settings: {
      retry: {
        maxAttempts: config.webhooks.maxAttempts,
        baseDelayMs: config.webhooks.retryBaseMs,
        maxDelayMs: config.webhooks.retryMaxDelayMs,
        maxAgeMs: config.webhooks.maxAgeSeconds * 1000,
      },
      defaultTimeoutMs: config.webhooks.timeoutMs,
      pollMs: config.webhooks.pollMs,
      keepAliveMs: Math.floor(config.webhooks.claimIdleMs / 3),
      maxSinks: config.webhooks.maxSinks,
      refreshMs: 5000,
      bufferMax: 100_000,
      commitMs: config.webhooks.commitMs,
    },
    logger,
    observer: webhookMetrics,
  });
  webhooks = hooks;
  await hooks.start();
  state.failingWebhooks = () => hooks.failing();
  const api =
    loginTokens &&
    createApi({
      applications,
      settings: {
        ...config.api,
        prebindWait: Math.min(60, config.bosh.maxWait),
        prebindHold: Math.min(1, config.bosh.maxHold),
      },
      version: PACKAGE_VERSION,
      transport: boshTransport,
      xmpp: domain,
      stores: durable,
      tokens: loginTokens,
      validity: tokenValidity,
      logger,
      webhooks: hooks,
      groups: muc?.groups,
    });
  const app = buildApp(config, metrics, state, config.metrics.enabled && !separateMetrics, api);
  // The BOSH hot path takes requests before express's router.
  server.on('request', (req, res) => {
    if (!bosh(req, res)) app(req, res);
  });

  let metricsServer: Server | undefined;
  let metricsUrl = config.metrics.enabled ? `${url}${config.metrics.path}` : undefined;
  if (separateMetrics) {
    const metricsApp = express();
    mountMetrics(metricsApp, config.metrics.path, metrics);
    metricsServer = createServer(metricsApp);
    metricsUrl = `${await listen(metricsServer, config.metrics.port, config.metrics.host)}${config.metrics.path}`;
  }
  logger.info(
    { url: `${url}${config.boshPath}`, domain: config.domain, metrics: metricsUrl, cluster: setup ? { node: config.cluster.nodeId, nodeUrl } : undefined },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    boshUrl: `${url}${config.boshPath}`,
    metricsUrl,
    transport: boshTransport,
    accounts: durable.accounts,
    stores: durable,
    metrics,
    xmpp: domain,
    events: domain.events,
    components: domain.components,
    webhooks: hooks,
    close: () => {
      closing ??= (async () => {
        state.draining = true;
        retentionSweep.stop();
        // Sessions are told (system-shutdown); their contacts hear 'unavailable' before this node deregisters.
        boshTransport.shutdown();
        await domain.settle();
        // What the ending sessions emitted is queued before the store closes.
        await hooks.stop();
        await setup?.close();
        metricsServer?.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        // Last: the ended sessions' offline messages and presence have been written by now.
        await durable.close();
      })();
      return closing;
    },
  };
}
