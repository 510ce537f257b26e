import { ConfigError, loadConfig } from '../../src/config';

const cluster = { REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: 'cluster-secret-0123456789' };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('the API settings (docs/configuration.md, "Business API")', () => {
  it('default to no applications, 600 pushes a minute, 1,000 recipients, 1 MiB bodies, tokens of 5 minutes up to a day, BOSH_PATH for prebind, and history pages of 50 up to 500', () => {
    expect(loadConfig({ BOSH_PATH: '/bosh' }).api).toEqual({
      keys: undefined,
      keysFile: undefined,
      tokenSecret: undefined,
      tokenTtlSeconds: 300,
      tokenMaxTtlSeconds: 86_400,
      quotaPerMinute: 600,
      maxRecipients: 1000,
      maxBodyBytes: 1_048_576,
      boshUrl: '/bosh',
      historyDefaultLimit: 50,
      historyMaxLimit: 500,
    });
  });

  it('keep the default history page within API_HISTORY_MAX_LIMIT', () => {
    expect(loadConfig({ API_HISTORY_MAX_LIMIT: '20' }).api).toMatchObject({ historyDefaultLimit: 20, historyMaxLimit: 20 });
    expect(problems({ API_HISTORY_MAX_LIMIT: '0' })).toEqual([expect.stringMatching(/^API_HISTORY_MAX_LIMIT/)]);
  });

  it('require API_TOKEN_SECRET in cluster mode once keys are set, and not before', () => {
    expect(problems({ ...cluster })).toEqual([]);
    expect(problems({ ...cluster, API_KEYS: 'crm:0123456789abcdef' })).toEqual([expect.stringMatching(/^API_TOKEN_SECRET: required/)]);
    expect(problems({ ...cluster, API_KEYS_FILE: '/etc/keys', API_TOKEN_SECRET: 's'.repeat(32) })).toEqual([]);
  });

  it('refuse a short token secret, a default ttl above the maximum and an API_BOSH_URL that is not a path or URL', () => {
    expect(problems({ API_TOKEN_SECRET: 'short' })).toEqual([expect.stringMatching(/^API_TOKEN_SECRET: at least 32/)]);
    expect(problems({ API_TOKEN_TTL: '100', API_TOKEN_MAX_TTL: '60' })).toEqual([expect.stringMatching(/^API_TOKEN_TTL=100/)]);
    expect(problems({ API_BOSH_URL: 'bosh' })).toEqual([expect.stringMatching(/^API_BOSH_URL=bosh/)]);
    expect(loadConfig({ API_BOSH_URL: 'https://chat.example.com/http-bind' }).api.boshUrl).toBe('https://chat.example.com/http-bind');
  });
});
