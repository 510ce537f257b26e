import { reconnectDelayMs } from '../../src/redis/redis-client';

describe('reconnectDelayMs: how soon a lost Redis connection is tried again', () => {
  it('starts at 50 ms and grows to at most 250 ms, so a Redis restart of about a second is noticed within 250 ms of its return', () => {
    expect([1, 2, 3, 4, 5, 6].map(reconnectDelayMs)).toEqual([50, 100, 150, 200, 250, 250]);
  });

  it('keeps trying at most 250 ms apart for the first 10 s of an outage', () => {
    let elapsed = 0;
    let attempt = 1;
    for (; reconnectDelayMs(attempt) <= 250; attempt++) elapsed += reconnectDelayMs(attempt);
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
  });

  it('then tries once a second, never giving up', () => {
    expect(reconnectDelayMs(41)).toBe(1000);
    expect(reconnectDelayMs(10_000)).toBe(1000);
  });
});
