import { StreamDeletions } from '../../src/cluster/stream-deletions';
import { createLogger } from '../../src/observability/logger';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StreamDeletions: settled entries leave their stream in batches', () => {
  afterEach(() => jest.useRealTimers());

  it('deletes the entries settled in one turn in one XDEL, and one settled meanwhile in the next', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const deletions = new StreamDeletions(
      (ids) => {
        calls.push([...ids]);
        return calls.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
      createLogger('silent'),
      'bus:n1',
    );
    deletions.add('1-0');
    deletions.add('2-0');
    await turn();
    deletions.add('3-0');
    expect(deletions.waiting).toBe(1);
    release();
    await deletions.flush();
    expect(calls).toEqual([['1-0', '2-0'], ['3-0']]);
    expect(deletions.waiting).toBe(0);
  });

  it('tries a failed deletion again a second later, with what settled meanwhile; stop() ends the retries', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const calls: string[][] = [];
    let failing = true;
    const deletions = new StreamDeletions(
      async (ids) => {
        calls.push([...ids]);
        if (failing) throw new Error('Stream isn\u2019t writeable');
      },
      createLogger('silent'),
      'journal:n1',
    );
    deletions.add('1-0');
    await turn();
    await turn();
    deletions.add('2-0');
    await turn();
    expect(calls).toEqual([['1-0']]);
    expect(deletions.waiting).toBe(2);
    failing = false;
    await jest.advanceTimersByTimeAsync(1_000);
    await deletions.flush();
    expect(calls).toEqual([['1-0'], ['1-0', '2-0']]);

    failing = true;
    deletions.add('3-0');
    await turn();
    await turn();
    deletions.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(3);
    expect(deletions.waiting).toBe(1);
  });
});
