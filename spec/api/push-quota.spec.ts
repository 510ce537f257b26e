import { ApiError } from '../../src/api/api-error';
import { PushQuota } from '../../src/api/push-quota';

describe('the push quota of an application', () => {
  it('allows API_QUOTA_PER_MINUTE calls in a minute, then refuses with the seconds left as Retry-After', () => {
    let now = 1_000_000;
    const quota = new PushQuota(2, () => now);
    quota.take('crm');
    now += 15_000;
    quota.take('crm');
    now += 20_500;
    let refused: unknown;
    try {
      quota.take('crm');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    expect((refused as ApiError).retryAfterSeconds).toBe(25);
  });

  it('counts applications apart and starts again when the minute is over', () => {
    let now = 0;
    const quota = new PushQuota(1, () => now);
    quota.take('crm');
    quota.take('shop');
    expect(() => quota.take('crm')).toThrow(ApiError);
    now = 60_000;
    expect(() => quota.take('crm')).not.toThrow();
  });

  it('does not count a refused call', () => {
    let now = 0;
    const quota = new PushQuota(1, () => now);
    quota.take('crm');
    for (let i = 0; i < 5; i++) expect(() => quota.take('crm')).toThrow(ApiError);
    now = 60_000;
    quota.take('crm');
    expect(() => quota.take('crm')).toThrow(ApiError);
  });
});
