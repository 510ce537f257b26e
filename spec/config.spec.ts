import { ConfigError, loadConfig } from '../src/config';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig with an empty environment gives the documented defaults (docs/configuration.md)', () => {
  const config = loadConfig({});

  it('listens on 127.0.0.1:5280 for the domain localhost at /http-bind', () => {
    expect(config).toMatchObject({ host: '127.0.0.1', port: 5280, domain: 'localhost', boshPath: '/http-bind' });
  });

  it('has no accounts source and no Redis', () => {
    expect(config.users).toBeUndefined();
    expect(config.usersFile).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
  });

  it('grants at most wait=60 and hold=2, with inactivity 60, polling 2 and maxpause 120 (XEP-0124 §7.2, §10, §12), and prompts a confirmation after 1 s (§9)', () => {
    expect(config.bosh).toEqual({ maxWait: 60, maxHold: 1, inactivity: 60, polling: 2, maxPause: 120, confirmationPromptMs: 1000 });
  });

  it('leases stored messages for 300 s (XEP-0160), and waits 3 s for clients to confirm on a cluster node’s stop', () => {
    expect(config.limits.offlineLeaseSeconds).toBe(300);
    expect(config.cluster.settleWaitMs).toBe(3000);
  });

  it('journals a cluster node’s messages to its own sessions until their clients confirm them, unless BUS_JOURNAL=false', () => {
    expect(config.cluster.busJournal).toBe(true);
    expect(loadConfig({ BUS_JOURNAL: 'false' }).cluster.busJournal).toBe(false);
    expect(problemsOf({ BUS_JOURNAL: 'no' })).toEqual([expect.stringMatching(/^BUS_JOURNAL=no/)]);
  });

  it('limits bodies to 256 KiB and stanzas to 64 KiB', () => {
    expect(config.maxBodyBytes).toBe(262_144);
    expect(config.maxStanzaBytes).toBe(65_536);
  });

  it('limits stanzas to 48 levels of elements, <body/> included', () => {
    expect(config.maxXmlDepth).toBe(48);
    expect(loadConfig({ MAX_XML_DEPTH: '12' }).maxXmlDepth).toBe(12);
  });

  it('allows any origin, derives SCRAM keys with 4096 iterations (RFC 7677 §4) and replaces conflicting resources', () => {
    expect(config.corsOrigins).toBe('*');
    expect(config.scramIterations).toBe(4096);
    expect(config.resourceConflict).toBe('replace');
  });

  it('caches 100,000 logins for 900 s, allows 3 failed SASL attempts, logs at info and waits 10 s on shutdown', () => {
    expect(config).toMatchObject({ authCacheSize: 100_000, authCacheTtlSeconds: 900, maxAuthFailures: 3, logLevel: 'info', shutdownGraceSeconds: 10 });
  });
});

describe('loadConfig reads and normalises the values it is given', () => {
  it('trims values and treats an empty or blank value as unset', () => {
    const config = loadConfig({ PORT: ' 6000 ', HOST: '', LOG_LEVEL: '   ' });
    expect(config.port).toBe(6000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.logLevel).toBe('info');
  });

  it('accepts the bounds of each range: PORT 0 and 65535, SCRAM_ITERATIONS 4096', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ SCRAM_ITERATIONS: '4096' }).scramIterations).toBe(4096);
  });

  it('lower-cases XMPP_DOMAIN and drops its trailing dot (RFC 7622 §3.2)', () => {
    expect(loadConfig({ XMPP_DOMAIN: 'Chat.Example.COM.' }).domain).toBe('chat.example.com');
  });

  it('reads every BOSH limit into its place', () => {
    const config = loadConfig({
      BOSH_MAX_WAIT: '30',
      BOSH_MAX_HOLD: '1',
      BOSH_INACTIVITY: '45',
      BOSH_POLLING: '0',
      BOSH_MAX_PAUSE: '300',
      BOSH_CONFIRMATION_PROMPT_MS: '250',
    });
    expect(config.bosh).toEqual({ maxWait: 30, maxHold: 1, inactivity: 45, polling: 0, maxPause: 300, confirmationPromptMs: 250 });
  });

  it('reads the offline lease and the stopping node’s settle wait, and refuses values out of range', () => {
    const config = loadConfig({ OFFLINE_LEASE_SECONDS: '90', BUS_SETTLE_WAIT_MS: '0' });
    expect([config.limits.offlineLeaseSeconds, config.cluster.settleWaitMs]).toEqual([90, 0]);
    expect(problemsOf({ OFFLINE_LEASE_SECONDS: '0', BOSH_CONFIRMATION_PROMPT_MS: '5', BUS_SETTLE_WAIT_MS: 'soon' })).toEqual([
      expect.stringMatching(/^BOSH_CONFIRMATION_PROMPT_MS=5: expected a whole number from 100 /),
      expect.stringMatching(/^OFFLINE_LEASE_SECONDS=0: expected a whole number from 1 /),
      expect.stringMatching(/^BUS_SETTLE_WAIT_MS=soon: expected a whole number from 0 /),
    ]);
  });

  it('reads the users sources and the conflict policy as given', () => {
    const config = loadConfig({ USERS: 'alice:secret', USERS_FILE: '/etc/users', RESOURCE_CONFLICT: 'refuse' });
    expect(config).toMatchObject({ users: 'alice:secret', usersFile: '/etc/users', resourceConflict: 'refuse' });
  });
});

describe('every bad value is reported at once, each named by its variable', () => {
  const bad = {
    PORT: '99999',
    XMPP_DOMAIN: 'user@example.com',
    BOSH_PATH: 'http-bind',
    REDIS_URL: 'http://cache:6379',
    BOSH_MAX_WAIT: '0',
    BOSH_MAX_HOLD: 'two',
    BOSH_INACTIVITY: '1',
    BOSH_MAX_BODY_BYTES: '100',
    CORS_ORIGINS: 'chat.example.com',
    SCRAM_ITERATIONS: '1000',
    RESOURCE_CONFLICT: 'kick',
    MAX_AUTH_FAILURES: '-1',
    LOG_LEVEL: 'verbose',
  };

  // A valid secret, so REDIS_URL's only problem is its own scheme.
  const env = { ...bad, CLUSTER_SECRET: 'a-cluster-secret-of-some-length' };

  it('throws one ConfigError listing one problem per bad variable', () => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(Object.keys(bad).length);
    for (const [name, value] of Object.entries(bad)) {
      expect(problems.filter((p) => p.startsWith(`${name}=${value}:`))).toHaveLength(1);
    }
  });

  it('puts every problem in the error message', () => {
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')[0]).toBe('invalid configuration:');
    for (const name of Object.keys(bad)) expect(message).toContain(`  - ${name}=`);
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', '1.5'],
    ['PORT', '1e3'],
    ['PORT', '-1'],
    ['SCRAM_ITERATIONS', '4095'],
    ['BOSH_MAX_HOLD', '11'],
    ['MAX_STANZA_BYTES', '511'],
    ['MAX_XML_DEPTH', '7'],
    ['MAX_XML_DEPTH', '1001'],
    ['AUTH_CACHE_TTL', '0'],
    ['SHUTDOWN_GRACE', '601'],
  ])('refuses %s=%s as out of range or not a whole number', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}=`))]);
  });

  it.each(['example.com/resource', 'exa mple.com', '@example.com'])('refuses XMPP_DOMAIN=%s as not a domain', (domain) => {
    expect(problemsOf({ XMPP_DOMAIN: domain })).toEqual([expect.stringMatching(/^XMPP_DOMAIN=/)]);
  });

  it('accepts redis:// and rediss:// as REDIS_URL, with a cluster secret of at least 16 characters', () => {
    const secret = 'a-cluster-secret-of-some-length';
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', CLUSTER_SECRET: secret }).redisUrl).toBe('redis://cache:6379');
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380', CLUSTER_SECRET: secret }).redisUrl).toBe('rediss://cache:6380');
  });

  it('refuses REDIS_URL without a cluster secret, without printing any secret', () => {
    expect(problemsOf({ REDIS_URL: 'redis://cache:6379', CLUSTER_SECRET: 'short' })).toEqual([expect.stringMatching(/^CLUSTER_SECRET: /)]);
    expect(problemsOf({ REDIS_URL: 'redis://cache:6379', CLUSTER_SECRET: 'short' })[0]).not.toContain('short');
  });
});

describe('CORS_ORIGINS is * or a comma list of origins (RFC 6454 §6.2 serialisation)', () => {
  it('keeps * as any origin', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
  });

  it('reads a comma list, trimming spaces and skipping empty entries', () => {
    const origins = loadConfig({ CORS_ORIGINS: ' https://chat.example.com , http://localhost:8080,,' }).corsOrigins;
    expect(origins).toEqual(new Set(['https://chat.example.com', 'http://localhost:8080']));
  });

  it('accepts an IPv6 literal origin', () => {
    expect(loadConfig({ CORS_ORIGINS: 'http://[::1]:3000' }).corsOrigins).toEqual(new Set(['http://[::1]:3000']));
  });

  it('stores origins as browsers send them, with a lower-case host, so a configured capital letter still matches', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://Chat.Example.com' }).corsOrigins).toEqual(new Set(['https://chat.example.com']));
  });

  it('drops a default port, which browsers leave out of the Origin header', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://chat.example.com:443,http://web.example.com:80' }).corsOrigins).toEqual(
      new Set(['https://chat.example.com', 'http://web.example.com']),
    );
  });

  it.each([
    ['a bare host', 'chat.example.com'],
    ['a path after the origin', 'https://chat.example.com/'],
    ['another scheme', 'ftp://chat.example.com'],
    ['only commas', ',,'],
    ['one bad entry among good ones', 'https://a.example,b.example'],
  ])('refuses %s', (_what, value) => {
    expect(problemsOf({ CORS_ORIGINS: value })).toEqual([expect.stringMatching(/^CORS_ORIGINS=/)]);
  });
});

describe('login throttling settings (docs/security.md): failures slowed down, never refused', () => {
  it('defaults to 250 ms doubling to 2 s per account and address group, 1 s account-wide, 2 attempts per pair and 64 per address, forgotten after 300 s', () => {
    expect(loadConfig({}).authThrottle).toEqual({
      delayMs: 250,
      delayMaxMs: 2000,
      accountDelayMaxMs: 1000,
      pendingPerPair: 2,
      pendingPerAddress: 64,
      windowSeconds: 300,
    });
  });

  it('reads every throttle setting into its place', () => {
    const config = loadConfig({
      AUTH_FAILURE_DELAY_MS: '10',
      AUTH_FAILURE_DELAY_MAX_MS: '40',
      AUTH_ACCOUNT_DELAY_MAX_MS: '20',
      AUTH_PENDING_PER_PAIR: '5',
      AUTH_PENDING_PER_ADDRESS: '500',
      AUTH_FAILURE_WINDOW: '60',
    });
    expect(config.authThrottle).toEqual({ delayMs: 10, delayMaxMs: 40, accountDelayMaxMs: 20, pendingPerPair: 5, pendingPerAddress: 500, windowSeconds: 60 });
  });

  it('refuses a pair cap below the first delay, and a pending bound of 0', () => {
    expect(problemsOf({ AUTH_FAILURE_DELAY_MS: '500', AUTH_FAILURE_DELAY_MAX_MS: '100' })).toEqual([expect.stringMatching(/^AUTH_FAILURE_DELAY_MAX_MS=100: /)]);
    expect(problemsOf({ AUTH_PENDING_PER_PAIR: '0' })).toEqual([expect.stringMatching(/^AUTH_PENDING_PER_PAIR=0: /)]);
  });

  it.each(['AUTH_FAILURES_PER_ACCOUNT', 'AUTH_FAILURES_PER_ADDRESS'])('refuses the retired %s, saying what replaced it', (name) => {
    expect(problemsOf({ [name]: '10' })).toEqual([expect.stringMatching(new RegExp(`^${name} is no longer read: .*AUTH_FAILURE_DELAY_MS`))]);
  });
});

describe('TRUSTED_PROXIES takes addresses and CIDR ranges', () => {
  it('is empty by default', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
  });

  it('reads a comma list of IPv4 and IPv6 addresses and ranges', () => {
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, 172.16.0.0/12 ,fd00::/8,192.0.2.10,::1,' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      'fd00::/8',
      '192.0.2.10',
      '::1',
    ]);
  });

  it('refuses a host name or a prefix out of range, naming the bad entries', () => {
    const problems = problemsOf({ TRUSTED_PROXIES: '10.0.0.0/8,nginx,10.0.0.0/33' });
    expect(problems).toEqual([
      expect.stringMatching(/^TRUSTED_PROXIES=10\.0\.0\.0\/8,nginx,10\.0\.0\.0\/33: expected IP addresses or CIDR ranges .*, not nginx, 10\.0\.0\.0\/33$/),
    ]);
  });
});

describe('bounds per session and per account (docs/security.md)', () => {
  it('default to values a real user never reaches', () => {
    expect(loadConfig({}).limits).toMatchObject({
      offlineBytesPerUser: 1_048_576,
      queuedStanzasPerSession: 10_000,
      inboxStanzasPerSession: 1000,
      loginTimeoutSeconds: 120,
      privateXmlKeysPerAccount: 200,
      privateXmlItemBytes: 65_536,
      vcardBytes: 65_536,
      rosterItemsPerAccount: 5000,
    });
  });

  it('reads each from its variable, LOGIN_TIMEOUT=0 turning the deadline off', () => {
    const { limits } = loadConfig({
      OFFLINE_MAX_BYTES: '2048',
      MAX_QUEUED_STANZAS: '50',
      MAX_INBOX_STANZAS: '10',
      LOGIN_TIMEOUT: '0',
      PRIVATE_XML_MAX_KEYS: '3',
      PRIVATE_XML_MAX_BYTES: '1000',
      VCARD_MAX_BYTES: '2000',
      ROSTER_MAX_ITEMS: '7',
    });
    expect(limits).toMatchObject({
      offlineBytesPerUser: 2048,
      queuedStanzasPerSession: 50,
      inboxStanzasPerSession: 10,
      loginTimeoutSeconds: 0,
      privateXmlKeysPerAccount: 3,
      privateXmlItemBytes: 1000,
      vcardBytes: 2000,
      rosterItemsPerAccount: 7,
    });
  });

  it('refuses a queue or inbox bound of zero, naming the variables', () => {
    expect(problemsOf({ MAX_QUEUED_STANZAS: '0', MAX_INBOX_STANZAS: 'many' })).toEqual([
      expect.stringMatching(/^MAX_QUEUED_STANZAS=0: expected a whole number from 1 /),
      expect.stringMatching(/^MAX_INBOX_STANZAS=many: expected a whole number from 1 /),
    ]);
  });
});

describe('STORAGE and DATA_DIR choose where durable data lives', () => {
  it('keeps a single node’s data in SQLite under ./data unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ storage: 'sqlite', dataDir: './data' });
    expect(loadConfig({ DATA_DIR: '/var/lib/gateway' }).dataDir).toBe('/var/lib/gateway');
    expect(loadConfig({ STORAGE: 'memory' }).storage).toBe('memory');
  });

  it('keeps a cluster’s data in Redis, and refuses another storage with REDIS_URL', () => {
    const cluster = { REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: 'a-secret-of-16-chars' };
    expect(loadConfig(cluster).storage).toBe('redis');
    expect(problemsOf({ ...cluster, STORAGE: 'sqlite' })).toEqual([expect.stringMatching(/^STORAGE=sqlite: with REDIS_URL/)]);
    expect(problemsOf({ STORAGE: 'redis' })).toEqual(['STORAGE=redis needs REDIS_URL']);
    expect(problemsOf({ STORAGE: 'disk' })).toEqual([expect.stringMatching(/^STORAGE=disk: expected one of memory, sqlite, redis/)]);
  });
});

describe('MUC_ENABLED and MUC_DOMAIN place the multi-user chat service', () => {
  it('serves rooms at conference.<XMPP_DOMAIN> by default, or at the domain given, lower-cased', () => {
    expect(loadConfig({}).muc).toEqual({ enabled: true, domain: 'conference.localhost', maxOccupants: 1000, maxRoomsPerSession: 100, lockNewRooms: true });
    expect(loadConfig({ XMPP_DOMAIN: 'example.com' }).muc.domain).toBe('conference.example.com');
    expect(
      loadConfig({
        MUC_DOMAIN: 'Rooms.Example.com',
        MUC_ENABLED: 'false',
        MUC_MAX_OCCUPANTS: '50',
        MUC_MAX_ROOMS_PER_SESSION: '5',
        MUC_LOCK_NEW_ROOMS: 'false',
      }).muc,
    ).toEqual({
      enabled: false,
      domain: 'rooms.example.com',
      maxOccupants: 50,
      maxRoomsPerSession: 5,
      lockNewRooms: false,
    });
  });

  it('refuses a domain that is not one, or the server’s own', () => {
    expect(problemsOf({ MUC_DOMAIN: 'room@conference.localhost' })).toEqual([
      expect.stringMatching(/^MUC_DOMAIN=room@conference.localhost: expected a domain name/),
    ]);
    expect(problemsOf({ MUC_DOMAIN: 'localhost' })).toEqual(['MUC_DOMAIN=localhost must differ from XMPP_DOMAIN']);
    expect(problemsOf({ MUC_ENABLED: 'yes' })).toEqual([expect.stringMatching(/^MUC_ENABLED=yes: expected one of true, false/)]);
  });
});
