import { TokenBucket } from '../../src/limits/token-bucket';
import { WindowCounter } from '../../src/limits/window-counter';

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('WindowCounter', () => {
  it('counts within a window and forgets after two windows', () => {
    const c = clock();
    const counter = new WindowCounter(1000, c.now);
    counter.add('a');
    counter.add('a');
    expect(counter.count('a')).toBe(2);
    expect(counter.count('b')).toBe(0);
    c.advance(1500);
    // Half of the previous window still overlaps the sliding window.
    expect(counter.count('a')).toBeCloseTo(1, 5);
    c.advance(2000);
    expect(counter.count('a')).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 3, c.now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    c.advance(100);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    c.advance(10_000);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});
