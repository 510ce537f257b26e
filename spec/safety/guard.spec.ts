import { guard } from '../../src/safety/guard';

describe('guard runs one unit of work under the safety net', () => {
  it('returns what the work returns when nothing goes wrong, and reports nothing', () => {
    const faults: unknown[] = [];
    expect(
      guard(
        () => 42,
        (err) => faults.push(err),
      ),
    ).toBe(42);
    expect(faults).toEqual([]);
  });

  it('hands a throw to the fault handler instead of the caller', () => {
    const faults: unknown[] = [];
    const boom = new Error('boom');
    expect(
      guard(
        () => {
          throw boom;
        },
        (err) => faults.push(err),
      ),
    ).toBeUndefined();
    expect(faults).toEqual([boom]);
  });

  it('hands a rejection to the fault handler, and the promise it returns resolves', async () => {
    const faults: unknown[] = [];
    const boom = new Error('later');
    await expect(
      guard(
        () => Promise.reject(boom),
        (err) => faults.push(err),
      ),
    ).resolves.toBeUndefined();
    expect(faults).toEqual([boom]);
  });

  it('passes a resolved value through untouched', async () => {
    await expect(
      guard(
        () => Promise.resolve('ok'),
        () => undefined,
      ),
    ).resolves.toBe('ok');
  });
});
