import type { BoshLimits } from './bosh/session-params';
import type { LogLevel } from './observability/logger';
import type { ResourceConflictPolicy } from './base/resource-conflict';
import { hostname } from 'node:os';
import { invalidProxyEntries } from './bosh/trusted-proxies';
import type { AuthThrottleSettings } from './limits/auth-throttle';
import { parseJid } from './base/jid';

/** Everything a node runs with; built once from the environment, nowhere else reads process.env. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly boshPath: string;
  readonly users: string | undefined;
  readonly usersFile: string | undefined;
  readonly redisUrl: string | undefined;
  /** Sentinels to ask for the current master (high availability); REDIS_URL then gives password and db. */
  readonly redisSentinels: ReadonlyArray<{ readonly host: string; readonly port: number }> | undefined;
  readonly redisSentinelName: string;
  /**
   * Where accounts created at run time, rosters, offline messages and stored XML live: 'sqlite' (one
   * database under dataDir, the single-node default), 'redis' (cluster mode), 'memory' (nothing
   * survives a restart: tests).
   */
  readonly storage: 'memory' | 'sqlite' | 'redis';
  readonly dataDir: string;
  readonly bosh: BoshLimits;
  readonly maxBodyBytes: number;
  readonly maxStanzaBytes: number;
  /** Deepest element a stanza may hold, <body/> being level 1 (twice that ends the request). */
  readonly maxXmlDepth: number;
  readonly corsOrigins: '*' | ReadonlySet<string>;
  readonly scramIterations: number;
  readonly authCacheSize: number;
  readonly authCacheTtlSeconds: number;
  readonly resourceConflict: ResourceConflictPolicy;
  readonly maxAuthFailures: number;
  readonly limits: {
    /** Messages kept per offline user (XEP-0160). */
    readonly offlinePerUser: number;
    /**
     * Seconds stored messages handed to a session stay hidden from another login while its client has
     * not confirmed them (XEP-0160 at least once: they are deleted on confirmation, handed over again
     * after a crash once this runs out).
     */
    readonly offlineLeaseSeconds: number;
    readonly sessionsPerAccount: number;
    readonly stanzasPerSecond: number;
    readonly stanzaBurst: number;
    /** New BOSH sessions one client address group (src/limits/address-group.ts) may open per minute. */
    readonly newSessionsPerAddressPerMinute: number;
    /** Bounds per session and per account (docs/security.md "Bounds per session and per account"). */
    readonly offlineBytesPerUser: number;
    readonly queuedStanzasPerSession: number;
    readonly inboxStanzasPerSession: number;
    /** Seconds a stream may take to authenticate and bind; 0: no deadline. */
    readonly loginTimeoutSeconds: number;
    readonly privateXmlKeysPerAccount: number;
    readonly privateXmlItemBytes: number;
    readonly vcardBytes: number;
    readonly rosterItemsPerAccount: number;
  };
  /** Brute-force protection: failed logins slowed down, never refused (src/limits/auth-throttle.ts). */
  readonly authThrottle: AuthThrottleSettings & {
    /** Seconds without a failure after which an account's (or a pair's) failures are forgotten. */
    readonly windowSeconds: number;
  };
  /** Proxies whose X-Forwarded-For names the client address: addresses and CIDR ranges, validated. */
  readonly trustedProxies: readonly string[];
  /** Cluster mode (REDIS_URL set): how this node is known to the others. */
  readonly cluster: {
    readonly nodeId: string;
    /** The URL other nodes use to forward requests here. */
    readonly nodeUrl: string;
    readonly secret: string | undefined;
    readonly redisPrefix: string;
    readonly heartbeatMs: number;
    readonly nodeTtlMs: number;
    /** Bus messages that wait for Redis during an outage before they are routed again (BUS_OUTBOX_MAX, BUS_OUTBOX_SECONDS). */
    readonly outboxMessages: number;
    readonly outboxSeconds: number;
    /** Users whose last known routes serve while Redis cannot answer (ROUTE_CACHE_USERS). */
    readonly routeCacheUsers: number;
    /** Milliseconds a stopping node waits at most for its clients to confirm what it handed them from its bus stream (BUS_SETTLE_WAIT_MS). */
    readonly settleWaitMs: number;
    /**
     * Messages this node hands to its own sessions are kept in its journal in Redis until their clients
     * confirm them, so that a crash of the node does not lose them (BUS_JOURNAL).
     */
    readonly busJournal: boolean;
  };
  readonly logLevel: LogLevel;
  /** Log every stanza in and out at debug level (contains message bodies: off by default). */
  readonly logStanzas: boolean;
  readonly shutdownGraceSeconds: number;
  readonly metrics: {
    readonly enabled: boolean;
    readonly path: string;
    /** Undefined: served on the main listener. Otherwise a separate listener (kept off the public port). */
    readonly port: number | undefined;
    readonly host: string;
  };
  /** The message archive (XEP-0313) and its retention; a limit of 0 means none. */
  readonly archive: {
    /** Users' chats are archived (MAM_ENABLED); rooms archive their own messages whatever this says. */
    readonly enabled: boolean;
    /** Days a message is kept (MAM_RETENTION_DAYS). */
    readonly retentionDays: number;
    /** Messages kept per archive, the newest (MAM_RETENTION_COUNT). */
    readonly retentionCount: number;
    /** SQLite storage: archive writes run in a thread of their own (MAM_WRITER_THREAD). */
    readonly writerThread: boolean;
    /** SQLite storage: milliseconds new archive entries wait for their group commit at most (MAM_COMMIT_MS). */
    readonly commitMs: number;
  };
  /** The multi-user chat service (XEP-0045, src/muc/): on by default at conference.<XMPP_DOMAIN>. */
  readonly muc: {
    readonly enabled: boolean;
    /** The service's domain (MUC_DOMAIN): rooms are name@domain. */
    readonly domain: string;
    /** Occupants one room holds at most (MUC_MAX_OCCUPANTS); a newcomer beyond it gets service-unavailable. */
    readonly maxOccupants: number;
    /** Rooms one session may be in at once (MUC_MAX_ROOMS_PER_SESSION); one more gets resource-constraint. */
    readonly maxRoomsPerSession: number;
    /** A room created by entering it stays locked until its owner configures it (MUC_LOCK_NEW_ROOMS, XEP-0045 §10.1.1). */
    readonly lockNewRooms: boolean;
  };
  /** The browser page for trying the gateway (src/web/). */
  readonly webClient: {
    readonly enabled: boolean;
    /** URL path of the page, always ending with '/'; its script and styles are served under it. */
    readonly path: string;
  };
  /** The business API under /api/v1 (docs/api.md); on when API_KEYS or API_KEYS_FILE is set. */
  readonly api: {
    /** Applications and keys, `name:key[:scope+scope]` separated by commas (src/api/applications.ts). */
    readonly keys: string | undefined;
    /** The same, one entry a line. */
    readonly keysFile: string | undefined;
    /** Signs login tokens (HS256); required in cluster mode so every node verifies them. */
    readonly tokenSecret: string | undefined;
    readonly tokenTtlSeconds: number;
    readonly tokenMaxTtlSeconds: number;
    /** Push calls (POST /messages, /control) per application per minute, per node. */
    readonly quotaPerMinute: number;
    readonly maxRecipients: number;
    readonly maxBodyBytes: number;
    /** The BOSH URL POST /sessions tells a page to attach through (default BOSH_PATH). */
    readonly boshUrl: string;
    /** History pages (GET …/history): messages when no limit is given, and the largest limit accepted. */
    readonly historyDefaultLimit: number;
    readonly historyMaxLimit: number;
  };
  /** Webhooks: signed, retried, durable event delivery to business systems (docs/webhooks.md). */
  readonly webhooks: {
    /** Read-only sinks from a JSON file (src/webhooks/sinks-file.ts). */
    readonly file: string | undefined;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxDelayMs: number;
    readonly maxAgeSeconds: number;
    /** Per-attempt timeout for sinks that name none. */
    readonly timeoutMs: number;
    /** Cluster mode: a node's held events untouched this long are taken over by another node. */
    readonly claimIdleMs: number;
    readonly pollMs: number;
    /** Events go to the queue at most this often, together (WEBHOOK_COMMIT_MS). */
    readonly commitMs: number;
    readonly maxSinks: number;
    readonly deadLettersPerSink: number;
    /** Sinks named in per-sink metrics (the deepest queues); the label set stays bounded. */
    readonly metricsMaxSinks: number;
  };
}

/** Every problem found in the environment, each named by its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const CONFLICT_POLICIES: readonly ResourceConflictPolicy[] = ['replace', 'override', 'refuse'];

/** Reads and validates the configuration; throws ConfigError listing every bad value at once. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(raw);
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw as T)) {
      problems.push(`${name}=${raw}: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  };

  const host = value('HOST') ?? '127.0.0.1';
  const port = integer('PORT', 5280, 0, 65535);
  const domainText = value('XMPP_DOMAIN') ?? 'localhost';
  const domainJid = parseJid(domainText);
  if (!domainJid || domainJid.local !== '' || domainJid.resource !== '') problems.push(`XMPP_DOMAIN=${domainText}: expected a domain name`);
  const boshPath = value('BOSH_PATH') ?? '/http-bind';
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(boshPath)) problems.push(`BOSH_PATH=${boshPath}: expected a URL path starting with /`);

  const usersFile = value('USERS_FILE');
  const users = value('USERS');
  const redisUrl = value('REDIS_URL');
  const sentinelsText = value('REDIS_SENTINELS');
  let redisSentinels: Array<{ host: string; port: number }> | undefined;
  if (sentinelsText !== undefined) {
    redisSentinels = sentinelsText.split(',').map((entry) => {
      const match = /^\s*([A-Za-z0-9.:[\]-]+):([0-9]{1,5})\s*$/.exec(entry);
      if (!match) problems.push(`REDIS_SENTINELS=${sentinelsText}: expected host:port,host:port`);
      return { host: match?.[1] ?? '', port: Number(match?.[2] ?? 0) };
    });
    if (redisUrl === undefined) problems.push('REDIS_SENTINELS needs REDIS_URL too (for password and database; its host is ignored)');
  }
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL=${redisUrl}: expected redis:// or rediss://`);
  const storage = oneOf<Config['storage']>('STORAGE', redisUrl === undefined ? 'sqlite' : 'redis', ['memory', 'sqlite', 'redis']);
  if (storage === 'redis' && redisUrl === undefined) problems.push('STORAGE=redis needs REDIS_URL');
  if (storage !== 'redis' && redisUrl !== undefined) {
    problems.push(`STORAGE=${storage}: with REDIS_URL (cluster mode) every node shares its durable data through Redis; leave STORAGE unset or set it to redis`);
  }

  const maxWait = integer('BOSH_MAX_WAIT', 60, 1, 3600);
  const maxHold = integer('BOSH_MAX_HOLD', 1, 0, 10);
  const inactivity = integer('BOSH_INACTIVITY', 60, 5, 86400);
  const polling = integer('BOSH_POLLING', 2, 0, 60);
  const maxPause = integer('BOSH_MAX_PAUSE', 120, 0, 86400);
  const confirmationPromptMs = integer('BOSH_CONFIRMATION_PROMPT_MS', 1000, 100, 3_600_000);

  const corsText = value('CORS_ORIGINS') ?? '*';
  let corsOrigins: '*' | ReadonlySet<string> = '*';
  if (corsText !== '*') {
    const origins = corsText
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    const bad = origins.filter((o) => !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(o) && !/^https?:\/\/\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(o));
    if (bad.length > 0 || origins.length === 0) problems.push(`CORS_ORIGINS=${corsText}: expected * or a comma list of origins like https://chat.example.com`);
    // RFC 6454 §6.2: browsers send the host in lower case and leave out a default port.
    corsOrigins = new Set(
      origins.map((o) =>
        o
          .toLowerCase()
          .replace(/^(https:\/\/.+):443$/, '$1')
          .replace(/^(http:\/\/.+):80$/, '$1'),
      ),
    );
  }

  const metricsPath = value('METRICS_PATH') ?? '/metrics';
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(metricsPath)) problems.push(`METRICS_PATH=${metricsPath}: expected a URL path starting with /`);
  if (metricsPath === boshPath) problems.push('METRICS_PATH must differ from BOSH_PATH');
  const metricsPortText = value('METRICS_PORT');

  const mucEnabled = oneOf('MUC_ENABLED', 'true', ['true', 'false']) === 'true';
  const mucText = value('MUC_DOMAIN') ?? `conference.${domainText}`;
  const mucJid = parseJid(mucText);
  // A bad XMPP_DOMAIN is reported once, not again through the default MUC_DOMAIN derived from it.
  const mucChecked = value('MUC_DOMAIN') !== undefined || (domainJid?.local === '' && domainJid.resource === '');
  if (mucChecked && (!mucJid || mucJid.local !== '' || mucJid.resource !== '')) problems.push(`MUC_DOMAIN=${mucText}: expected a domain name`);
  else if (mucChecked && mucJid?.domain === domainJid?.domain) problems.push(`MUC_DOMAIN=${mucText} must differ from XMPP_DOMAIN`);
  const webClientEnabled = oneOf('WEB_CLIENT', 'true', ['true', 'false']) === 'true';
  const webClientText = value('WEB_CLIENT_PATH') ?? '/';
  const webClientPath = webClientText.endsWith('/') ? webClientText : `${webClientText}/`;
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(webClientText) || /\/\.{0,2}\//.test(webClientPath)) {
    problems.push(`WEB_CLIENT_PATH=${webClientText}: expected a URL path starting with /, without empty, . or .. segments`);
  } else if (webClientEnabled && [boshPath, metricsPath].some((p) => p === webClientPath || `${p}/` === webClientPath)) {
    problems.push(`WEB_CLIENT_PATH=${webClientText} must differ from BOSH_PATH and METRICS_PATH`);
  }

  const nodeId = value('NODE_ID') ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) problems.push(`NODE_ID=${nodeId}: letters, digits, '.', '_' and '-' only (at most 64)`);
  const nodeUrl = value('NODE_URL') ?? `http://${host === '0.0.0.0' || host === '::' ? hostname() : host}:${port}`;
  if (!/^https?:\/\/[^/\s]+$/.test(nodeUrl)) problems.push(`NODE_URL=${nodeUrl}: expected http://host:port with no path`);
  const clusterSecret = value('CLUSTER_SECRET');
  if (redisUrl !== undefined && (clusterSecret === undefined || clusterSecret.length < 16)) {
    problems.push('CLUSTER_SECRET: required with REDIS_URL, at least 16 characters (nodes present it to each other)');
  }
  const heartbeatMs = integer('HEARTBEAT_MS', 1000, 100, 60_000);

  // Failed logins are slowed down, never refused: the caps of the old lockout mean nothing now.
  for (const gone of ['AUTH_FAILURES_PER_ACCOUNT', 'AUTH_FAILURES_PER_ADDRESS']) {
    if (value(gone) !== undefined) {
      problems.push(
        `${gone} is no longer read: failed logins are slowed down, never refused (see AUTH_FAILURE_DELAY_MS, AUTH_FAILURE_DELAY_MAX_MS, AUTH_ACCOUNT_DELAY_MAX_MS); remove it`,
      );
    }
  }
  const authDelayMs = integer('AUTH_FAILURE_DELAY_MS', 250, 0, 60_000);
  const proxiesText = value('TRUSTED_PROXIES') ?? '';
  const trustedProxies = proxiesText
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const badProxies = invalidProxyEntries(trustedProxies);
  if (badProxies.length > 0) {
    problems.push(`TRUSTED_PROXIES=${proxiesText}: expected IP addresses or CIDR ranges like 10.0.0.0/8 or fd00::/8, not ${badProxies.join(', ')}`);
  }

  const config: Config = {
    host,
    port,
    domain: domainJid?.domain ?? 'localhost',
    boshPath,
    users,
    usersFile,
    redisUrl,
    redisSentinels,
    redisSentinelName: value('REDIS_SENTINEL_NAME') ?? 'mymaster',
    storage,
    dataDir: value('DATA_DIR') ?? './data',
    bosh: { maxWait, maxHold, inactivity, polling, maxPause, confirmationPromptMs },
    maxBodyBytes: integer('BOSH_MAX_BODY_BYTES', 262_144, 1024, 64 * 1024 * 1024),
    maxStanzaBytes: integer('MAX_STANZA_BYTES', 65_536, 512, 64 * 1024 * 1024),
    // Stored and relayed XML is read back with a fixed bound (STORED_XML_MAX_DEPTH, 1024) above this maximum.
    maxXmlDepth: integer('MAX_XML_DEPTH', 48, 8, 1000),
    corsOrigins,
    scramIterations: integer('SCRAM_ITERATIONS', 4096, 4096, 10_000_000),
    authCacheSize: integer('AUTH_CACHE_SIZE', 100_000, 0, 10_000_000),
    authCacheTtlSeconds: integer('AUTH_CACHE_TTL', 900, 1, 86400 * 30),
    resourceConflict: oneOf('RESOURCE_CONFLICT', 'replace', CONFLICT_POLICIES),
    maxAuthFailures: integer('MAX_AUTH_FAILURES', 3, 1, 100),
    limits: {
      offlinePerUser: integer('OFFLINE_LIMIT', 100, 0, 100_000),
      // Above BOSH_MAX_PAUSE + BOSH_MAX_WAIT (180 s by default), the longest a live client can take to confirm.
      offlineLeaseSeconds: integer('OFFLINE_LEASE_SECONDS', 300, 1, 7 * 86_400),
      sessionsPerAccount: integer('MAX_SESSIONS_PER_ACCOUNT', 10, 1, 1000),
      stanzasPerSecond: integer('STANZAS_PER_SECOND', 20, 1, 100_000),
      stanzaBurst: integer('STANZA_BURST', 60, 1, 1_000_000),
      newSessionsPerAddressPerMinute: integer('NEW_SESSIONS_PER_ADDRESS', 600, 1, 10_000_000),
      offlineBytesPerUser: integer('OFFLINE_MAX_BYTES', 1_048_576, 0, 1024 * 1024 * 1024),
      queuedStanzasPerSession: integer('MAX_QUEUED_STANZAS', 10_000, 1, 10_000_000),
      inboxStanzasPerSession: integer('MAX_INBOX_STANZAS', 1000, 1, 10_000_000),
      loginTimeoutSeconds: integer('LOGIN_TIMEOUT', 120, 0, 86400),
      privateXmlKeysPerAccount: integer('PRIVATE_XML_MAX_KEYS', 200, 0, 1_000_000),
      privateXmlItemBytes: integer('PRIVATE_XML_MAX_BYTES', 65_536, 0, 64 * 1024 * 1024),
      vcardBytes: integer('VCARD_MAX_BYTES', 65_536, 0, 64 * 1024 * 1024),
      rosterItemsPerAccount: integer('ROSTER_MAX_ITEMS', 5000, 0, 10_000_000),
    },
    cluster: {
      nodeId,
      nodeUrl,
      secret: clusterSecret,
      redisPrefix: value('REDIS_PREFIX') ?? 'bosh:',
      heartbeatMs,
      nodeTtlMs: integer('NODE_TTL_MS', 5000, heartbeatMs * 2, 600_000),
      outboxMessages: integer('BUS_OUTBOX_MAX', 10_000, 0, 10_000_000),
      outboxSeconds: integer('BUS_OUTBOX_SECONDS', 30, 0, 3600),
      routeCacheUsers: integer('ROUTE_CACHE_USERS', 100_000, 0, 10_000_000),
      settleWaitMs: integer('BUS_SETTLE_WAIT_MS', 3000, 0, 600_000),
      busJournal: oneOf('BUS_JOURNAL', 'true', ['true', 'false']) === 'true',
    },
    authThrottle: {
      delayMs: authDelayMs,
      delayMaxMs: integer('AUTH_FAILURE_DELAY_MAX_MS', 2000, authDelayMs, 60_000),
      accountDelayMaxMs: integer('AUTH_ACCOUNT_DELAY_MAX_MS', 1000, 0, 60_000),
      pendingPerPair: integer('AUTH_PENDING_PER_PAIR', 2, 1, 1000),
      pendingPerAddress: integer('AUTH_PENDING_PER_ADDRESS', 64, 1, 1_000_000),
      windowSeconds: integer('AUTH_FAILURE_WINDOW', 300, 1, 86400),
    },
    trustedProxies,
    logLevel: oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logStanzas: oneOf('LOG_STANZAS', 'false', ['true', 'false']) === 'true',
    shutdownGraceSeconds: integer('SHUTDOWN_GRACE', 10, 0, 600),
    metrics: {
      enabled: oneOf('METRICS_ENABLED', 'true', ['true', 'false']) === 'true',
      path: metricsPath,
      port: metricsPortText === undefined ? undefined : integer('METRICS_PORT', 9464, 0, 65535),
      host: value('METRICS_HOST') ?? '127.0.0.1',
    },
    muc: {
      enabled: mucEnabled,
      domain: mucJid?.domain ?? mucText,
      maxOccupants: integer('MUC_MAX_OCCUPANTS', 1000, 2, 100_000),
      maxRoomsPerSession: integer('MUC_MAX_ROOMS_PER_SESSION', 100, 1, 10_000),
      lockNewRooms: oneOf('MUC_LOCK_NEW_ROOMS', 'true', ['true', 'false']) === 'true',
    },
    webClient: { enabled: webClientEnabled, path: webClientPath },
    api: loadApiConfig(value, integer, problems, redisUrl !== undefined, boshPath),
    webhooks: {
      file: value('WEBHOOKS_FILE'),
      maxAttempts: integer('WEBHOOK_MAX_ATTEMPTS', 150, 1, 1000),
      retryBaseMs: integer('WEBHOOK_RETRY_BASE_MS', 1000, 1, 600_000),
      retryMaxDelayMs: integer('WEBHOOK_RETRY_MAX_DELAY_MS', 30_000, 1, 86_400_000),
      maxAgeSeconds: integer('WEBHOOK_MAX_AGE', 86_400, 1, 30 * 86_400),
      timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 30_000),
      // Above the longest attempt (30 s), so a node waiting for a slow receiver is not overtaken.
      claimIdleMs: integer('WEBHOOK_CLAIM_IDLE_MS', 60_000, 31_000, 3_600_000),
      pollMs: integer('WEBHOOK_POLL_MS', 1000, 10, 60_000),
      commitMs: integer('WEBHOOK_COMMIT_MS', 20, 0, 1000),
      maxSinks: integer('WEBHOOK_MAX_SINKS', 100, 1, 10_000),
      deadLettersPerSink: integer('WEBHOOK_DEAD_LETTERS_PER_SINK', 10_000, 1, 10_000_000),
      metricsMaxSinks: integer('WEBHOOK_METRICS_MAX_SINKS', 20, 0, 1000),
    },
    archive: {
      enabled: oneOf('MAM_ENABLED', 'true', ['true', 'false']) === 'true',
      retentionDays: integer('MAM_RETENTION_DAYS', 365, 0, 36_500),
      retentionCount: integer('MAM_RETENTION_COUNT', 10_000, 0, 100_000_000),
      writerThread: oneOf('MAM_WRITER_THREAD', 'true', ['true', 'false']) === 'true',
      commitMs: integer('MAM_COMMIT_MS', 500, 0, 10_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** API_* settings (docs/configuration.md, "Business API"). */
function loadApiConfig(
  value: (name: string) => string | undefined,
  integer: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
  clustered: boolean,
  boshPath: string,
): Config['api'] {
  const keys = value('API_KEYS');
  const keysFile = value('API_KEYS_FILE');
  const tokenSecret = value('API_TOKEN_SECRET');
  if (tokenSecret !== undefined && tokenSecret.length < 32) problems.push('API_TOKEN_SECRET: at least 32 characters (it signs login tokens)');
  if (clustered && (keys !== undefined || keysFile !== undefined) && tokenSecret === undefined) {
    problems.push('API_TOKEN_SECRET: required with API_KEYS or API_KEYS_FILE in cluster mode (every node verifies the login tokens any node issued)');
  }
  const tokenMaxTtlSeconds = integer('API_TOKEN_MAX_TTL', 86_400, 1, 365 * 86_400);
  const historyMaxLimit = integer('API_HISTORY_MAX_LIMIT', 500, 1, 10_000);
  const boshUrlSetting = value('API_BOSH_URL');
  const boshUrl = boshUrlSetting ?? boshPath;
  // A bad BOSH_PATH is reported once, under its own name.
  if (boshUrlSetting !== undefined && !/^(https?:\/\/[^/\s]+)?\/[^\s]*$/.test(boshUrlSetting))
    problems.push(`API_BOSH_URL=${boshUrl}: expected a path like /http-bind or a URL like https://chat.example.com/http-bind`);
  return {
    keys,
    keysFile,
    tokenSecret,
    tokenTtlSeconds: integer('API_TOKEN_TTL', 300, 1, tokenMaxTtlSeconds),
    tokenMaxTtlSeconds,
    quotaPerMinute: integer('API_QUOTA_PER_MINUTE', 600, 1, 10_000_000),
    maxRecipients: integer('API_MAX_RECIPIENTS', 1000, 1, 100_000),
    maxBodyBytes: integer('API_MAX_BODY_BYTES', 1_048_576, 1024, 64 * 1024 * 1024),
    boshUrl,
    historyDefaultLimit: Math.min(historyMaxLimit, integer('API_HISTORY_DEFAULT_LIMIT', 50, 1, 10_000)),
    historyMaxLimit,
  };
}
