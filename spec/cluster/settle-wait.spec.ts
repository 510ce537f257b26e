import { waitForSettling } from '../../src/cluster/settle-wait';

/** How long a stopping node waits for its clients' XEP-0124 §9 confirmations (BUS_SETTLE_WAIT_MS). */
describe('waiting for handed-over bus entries to settle on stop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Starts the wait; `done()` tells whether it has resolved. */
  function waiting(settled: () => boolean, ms: number): { done: () => boolean } {
    let resolved = false;
    void waitForSettling(settled, ms).then(() => (resolved = true));
    return { done: () => resolved };
  }

  it('gives up after the configured time when nothing settles', async () => {
    const wait = waiting(() => false, 3_000);
    await jest.advanceTimersByTimeAsync(2_999);
    expect(wait.done()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(wait.done()).toBe(true);
  });

  it('ends as soon as everything settles, well before the time is up', async () => {
    let settled = false;
    const wait = waiting(() => settled, 3_000);
    await jest.advanceTimersByTimeAsync(500);
    expect(wait.done()).toBe(false);
    settled = true;
    await jest.advanceTimersByTimeAsync(50);
    expect(wait.done()).toBe(true);
  });

  it('does not wait at all with 0, or when everything is settled already', async () => {
    const none = waiting(() => false, 0);
    const already = waiting(() => true, 3_000);
    await jest.advanceTimersByTimeAsync(0);
    expect([none.done(), already.done()]).toEqual([true, true]);
  });
});
