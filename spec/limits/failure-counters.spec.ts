import { MemoryFailureCounters } from '../../src/limits/failure-counters';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('MemoryFailureCounters', () => {
  it('counts failures per key and resolves to the new counts in order', async () => {
    const counters = new MemoryFailureCounters(1000, clock().now);
    expect(await counters.increment(['pair:a', 'account:a'])).toEqual([1, 1]);
    expect(await counters.increment(['pair:b', 'account:a'])).toEqual([1, 2]);
  });

  it('forgets a key once its time passes without a failure, and keeps it while failures go on', async () => {
    const c = clock();
    const counters = new MemoryFailureCounters(1000, c.now);
    await counters.increment(['k']);
    c.advance(999);
    expect(await counters.increment(['k'])).toEqual([2]);
    c.advance(999);
    expect(await counters.increment(['k'])).toEqual([3]);
    c.advance(1000);
    expect(await counters.increment(['k'])).toEqual([1]);
  });

  it('clears a key on demand', async () => {
    const counters = new MemoryFailureCounters(1000, clock().now);
    await counters.increment(['k', 'k']);
    await counters.clear('k');
    expect(await counters.increment(['k'])).toEqual([1]);
  });

  it('keeps at most maxKeys keys, dropping expired ones and then the least recently counted', async () => {
    const c = clock();
    const counters = new MemoryFailureCounters(1000, c.now, 3);
    for (const key of ['a', 'b', 'c', 'd']) {
      await counters.increment([key]);
      c.advance(1);
    }
    expect(counters.size).toBe(3);
    expect(await counters.increment(['a'])).toEqual([1]);
    c.advance(5000);
    await counters.increment(['z']);
    expect(counters.size).toBe(1);
  });
});
