import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { BoshTransport, createBoshHttpHandler, realScheduler } from './bosh';
import type { Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { Router } from './routing/router';
import { AuthCache } from './store/auth-cache';
import { MemoryAccountStore } from './store/memory-account-store';
import { loadUsersFile, loadUsersList } from './store/users-file';
import { coreServerIq } from './xmpp/server-iq';
import { SessionActor } from './xmpp/session-actor';

export interface RunningNode {
  /** http://host:port */
  readonly url: string;
  /** The BOSH endpoint: url + BOSH_PATH. */
  readonly boshUrl: string;
  readonly transport: BoshTransport;
  readonly accounts: MemoryAccountStore;
  /** Stops taking sessions, ends the live ones with system-shutdown, closes the listener. */
  close(): Promise<void>;
}

/** Builds the HTTP side: BOSH on the bare node:http path, everything else through express. */
function buildServer(config: Config, transport: BoshTransport): Server {
  const bosh = createBoshHttpHandler(transport, {
    path: config.boshPath,
    maxBodyBytes: config.maxBodyBytes,
    cors: { origins: config.corsOrigins },
  });
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', reason: 'no such endpoint' });
  });
  const server = createServer((req, res) => {
    if (!bosh(req, res)) app(req, res);
  });
  // Held requests last up to `wait`; idle keep-alive connections a little longer than a proxy's.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 80_000;
  server.requestTimeout = 0;
  return server;
}

export async function startNode(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningNode> {
  if (config.redisUrl !== undefined) {
    throw new Error('REDIS_URL is set, but this build runs a single node on in-memory stores; unset REDIS_URL');
  }
  const accounts = new MemoryAccountStore(config.scramIterations, new AuthCache(config.authCacheSize, config.authCacheTtlSeconds * 1000));
  if (config.users) logger.info({ accounts: await loadUsersList(config.users, accounts) }, 'accounts loaded from USERS');
  if (config.usersFile) logger.info({ accounts: await loadUsersFile(config.usersFile, accounts), file: config.usersFile }, 'accounts loaded from USERS_FILE');

  const router = new Router(config.domain, accounts);
  const serverIq = coreServerIq();
  const actorOptions = {
    accounts,
    router,
    serverIq,
    scramIterations: config.scramIterations,
    resourceConflict: config.resourceConflict,
    maxAuthFailures: config.maxAuthFailures,
    logger,
  };
  const transport = new BoshTransport({
    limits: config.bosh,
    domains: new Set([config.domain]),
    maxStanzaBytes: config.maxStanzaBytes,
    scheduler: realScheduler,
    openStream: (output, info) => new SessionActor(output, info, actorOptions),
  });

  const server = buildServer(config, transport);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url: `${url}${config.boshPath}`, domain: config.domain }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    boshUrl: `${url}${config.boshPath}`,
    transport,
    accounts,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        transport.shutdown();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
