import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { BoshTransport, createBoshHttpHandler, realScheduler } from './bosh';
import type { Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { GatewayMetrics } from './observability/metrics';
import { AuthThrottle } from './limits/auth-throttle';
import { WindowCounter } from './limits/window-counter';
import { AuthCache } from './store/auth-cache';
import { MemoryAccountStore } from './store/memory-account-store';
import { MemoryOfflineStore } from './store/offline-store';
import { MemoryRosterStore } from './store/roster-store';
import { loadUsersFile, loadUsersList } from './store/users-file';
import { MemoryXmlStore } from './store/xml-store';
import { createXmppDomain, type XmppDomain } from './xmpp/domain';

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
  readonly accounts: MemoryAccountStore;
  readonly metrics: GatewayMetrics;
  readonly xmpp: XmppDomain;
  /** Stops taking sessions, ends the live ones with system-shutdown, closes the listeners. */
  close(): Promise<void>;
}

interface NodeState {
  draining: boolean;
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
function buildApp(config: Config, metrics: GatewayMetrics, state: NodeState, withMetrics: boolean): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (state.draining) res.status(503).json({ status: 'draining' });
    else res.json({ status: 'ready' });
  });
  if (withMetrics) mountMetrics(app, config.metrics.path, metrics);
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
  if (config.redisUrl !== undefined) {
    throw new Error('REDIS_URL is set, but this build runs a single node on in-memory stores; unset REDIS_URL');
  }
  const accounts = new MemoryAccountStore(config.scramIterations, new AuthCache(config.authCacheSize, config.authCacheTtlSeconds * 1000));
  if (config.users) logger.info({ accounts: await loadUsersList(config.users, accounts) }, 'accounts loaded from USERS');
  if (config.usersFile) logger.info({ accounts: await loadUsersFile(config.usersFile, accounts), file: config.usersFile }, 'accounts loaded from USERS_FILE');

  let transport: BoshTransport | undefined;
  let xmpp: XmppDomain | undefined;
  const metrics = new GatewayMetrics({
    sessions: () => transport?.sessionCount ?? 0,
    boundSessions: () => xmpp?.services.router.boundCount ?? 0,
    heldRequests: () => transport?.heldCount ?? 0,
  });
  const { limits } = config;
  xmpp = createXmppDomain(
    { accounts, rosters: new MemoryRosterStore(), offline: new MemoryOfflineStore(limits.offlinePerUser), documents: new MemoryXmlStore() },
    {
      domain: config.domain,
      version: PACKAGE_VERSION,
      scramIterations: config.scramIterations,
      resourceConflict: config.resourceConflict,
      limits: {
        maxAuthFailures: config.maxAuthFailures,
        maxSessionsPerAccount: limits.sessionsPerAccount,
        stanzasPerSecond: limits.stanzasPerSecond,
        stanzaBurst: limits.stanzaBurst,
      },
      authThrottle: new AuthThrottle({
        perAccount: limits.authFailuresPerAccount,
        perAddress: limits.authFailuresPerAddress,
        windowMs: limits.authFailureWindowSeconds * 1000,
      }),
      maxDocumentBytes: config.maxStanzaBytes,
      logger,
      observer: metrics,
    },
  );
  const newSessions = new WindowCounter(60_000);
  transport = new BoshTransport({
    limits: config.bosh,
    domains: new Set([config.domain]),
    maxStanzaBytes: config.maxStanzaBytes,
    scheduler: realScheduler,
    openStream: xmpp.openStream,
    observer: metrics,
    // A client address opening sessions in a loop is stopped (a runaway reconnect plugin).
    admit: (address) => address === undefined || newSessions.add(address) <= limits.newSessionsPerAddressPerMinute,
  });
  const boshTransport = transport;

  const state: NodeState = { draining: false };
  const separateMetrics = config.metrics.enabled && config.metrics.port !== undefined;
  const bosh = createBoshHttpHandler(boshTransport, {
    path: config.boshPath,
    maxBodyBytes: config.maxBodyBytes,
    cors: { origins: config.corsOrigins },
    trustedProxies: config.trustedProxies,
  });
  const app = buildApp(config, metrics, state, config.metrics.enabled && !separateMetrics);
  // The BOSH hot path takes requests before express's router.
  const server = createServer((req, res) => {
    if (!bosh(req, res)) app(req, res);
  });
  // Held requests last up to `wait`; idle keep-alive connections a little longer than a proxy's.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 80_000;
  server.requestTimeout = 0;
  const url = await listen(server, config.port, config.host);

  let metricsServer: Server | undefined;
  let metricsUrl = config.metrics.enabled ? `${url}${config.metrics.path}` : undefined;
  if (separateMetrics) {
    const metricsApp = express();
    mountMetrics(metricsApp, config.metrics.path, metrics);
    metricsServer = createServer(metricsApp);
    metricsUrl = `${await listen(metricsServer, config.metrics.port as number, config.metrics.host)}${config.metrics.path}`;
  }
  logger.info({ url: `${url}${config.boshPath}`, domain: config.domain, metrics: metricsUrl }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    boshUrl: `${url}${config.boshPath}`,
    metricsUrl,
    transport: boshTransport,
    accounts,
    metrics,
    xmpp,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        state.draining = true;
        boshTransport.shutdown();
        metricsServer?.close();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
