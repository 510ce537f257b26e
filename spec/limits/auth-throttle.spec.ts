import { AuthThrottle, failureDelay, type AttemptOutcome, type AuthThrottleObserver, type AuthThrottleSettings } from '../../src/limits/auth-throttle';
import { MemoryFailureCounters } from '../../src/limits/failure-counters';
import { FakeScheduler } from '../support/fake-scheduler';

const SETTINGS: AuthThrottleSettings = { delayMs: 250, delayMaxMs: 2000, accountDelayMaxMs: 1000, pendingPerPair: 2, pendingPerAddress: 64 };

/** Lets promise chains (check, counters) run; fake time stands still meanwhile. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Tracked {
  outcome: AttemptOutcome | undefined;
  checked: boolean;
}

class Bench {
  readonly scheduler = new FakeScheduler();
  readonly counters = new MemoryFailureCounters(300_000, () => this.scheduler.now());
  readonly delayed: Array<[string, number]> = [];
  readonly turnedAway: string[] = [];
  readonly throttle: AuthThrottle;

  constructor(settings: AuthThrottleSettings = SETTINGS) {
    const observer: AuthThrottleObserver = {
      failureDelayed: (scope, seconds) => this.delayed.push([scope, seconds]),
      attemptTurnedAway: (scope) => this.turnedAway.push(scope),
    };
    this.throttle = new AuthThrottle(settings, this.counters, this.scheduler, observer);
  }

  /** Starts one attempt with a password that is right or wrong; the result fills in when it ends. */
  try(user: string, address: string, right: boolean): Tracked {
    const tracked: Tracked = { outcome: undefined, checked: false };
    void this.throttle
      .attempt(user, address, () => {
        tracked.checked = true;
        return right;
      })
      .then((outcome) => (tracked.outcome = outcome));
    return tracked;
  }

  /** One attempt run to its end, advancing fake time by whatever delay it gets; returns its outcome. */
  async complete(user: string, address: string, right: boolean): Promise<AttemptOutcome> {
    const tracked = this.try(user, address, right);
    await settle();
    while (tracked.outcome === undefined) {
      this.scheduler.advance(100);
      await settle();
    }
    return tracked.outcome;
  }

  async advance(ms: number): Promise<void> {
    this.scheduler.advance(ms);
    await settle();
  }
}

describe('failureDelay: how long a failed login is answered late', () => {
  it('doubles with each failure of the account from one address group, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 500].map((n) => failureDelay(SETTINGS, n, 0))).toEqual(
      [250, 500, 1000, 2000, 2000, 2000, 2000].map((ms) => ({ ms, scope: 'pair' })),
    );
  });

  it('grows the account-wide delay more slowly (doubling every 4 failures) to a lower cap', () => {
    expect(failureDelay(SETTINGS, 1, 5)).toEqual({ ms: 500, scope: 'account' });
    expect(failureDelay(SETTINGS, 1, 9)).toEqual({ ms: 1000, scope: 'account' });
    expect(failureDelay(SETTINGS, 1, 100_000)).toEqual({ ms: 1000, scope: 'account' });
    // The pair's own delay wins when it is the longer one.
    expect(failureDelay(SETTINGS, 4, 9)).toEqual({ ms: 2000, scope: 'pair' });
  });

  it('stays finite and zero when delays are switched off', () => {
    const off = { ...SETTINGS, delayMs: 0, delayMaxMs: 0, accountDelayMaxMs: 0 };
    expect(failureDelay(off, 1_000_000, 1_000_000)).toEqual({ ms: 0, scope: 'pair' });
  });
});

describe('AuthThrottle slows failures down and never locks anyone out', () => {
  it('answers a wrong password only once its delay has passed', async () => {
    const bench = new Bench();
    const attempt = bench.try('alice', '192.0.2.1', false);
    await settle();
    expect(attempt.checked).toBe(true);
    expect(attempt.outcome).toBeUndefined();
    await bench.advance(249);
    expect(attempt.outcome).toBeUndefined();
    await bench.advance(1);
    expect(attempt.outcome).toBe('refused');
    expect(bench.delayed).toEqual([['pair', 0.25]]);
  });

  it('accepts the right password at once from the same address after 500 wrong ones', async () => {
    const bench = new Bench();
    for (let i = 0; i < 500; i++) expect(await bench.complete('alice', '192.0.2.1', false)).toBe('refused');
    expect(bench.delayed.at(-1)).toEqual(['pair', 2]);
    const right = bench.try('alice', '192.0.2.1', true);
    await settle();
    // No fake time passed: the answer did not wait for any delay.
    expect(right.outcome).toBe('accepted');
    expect(bench.throttle.activePairs).toBe(0);
  });

  it('accepts the right password at once from another address while the attacker waits for his answers', async () => {
    const bench = new Bench();
    const attacker = [bench.try('alice', '192.0.2.1', false), bench.try('alice', '192.0.2.1', false)];
    await settle();
    const user = bench.try('alice', '198.51.100.7', true);
    await settle();
    expect(user.outcome).toBe('accepted');
    expect(attacker.map((a) => a.outcome)).toEqual([undefined, undefined]);
  });

  it('checks one attempt of an account from one address at a time: the next waits for the previous answer', async () => {
    const bench = new Bench();
    const first = bench.try('alice', '192.0.2.1', false);
    const second = bench.try('alice', '192.0.2.1', true);
    await settle();
    expect(first.checked).toBe(true);
    expect(second.checked).toBe(false);
    await bench.advance(250);
    expect(first.outcome).toBe('refused');
    // The real user behind the same address waited one turn, then got in.
    expect(second.outcome).toBe('accepted');
  });

  it('turns away attempts beyond the pending bound without checking or counting them', async () => {
    const bench = new Bench();
    const running = [bench.try('alice', '192.0.2.1', false), bench.try('alice', '192.0.2.1', false)];
    const extra = bench.try('alice', '192.0.2.1', true);
    await settle();
    expect(extra).toEqual({ outcome: 'busy', checked: false });
    expect(bench.turnedAway).toEqual(['pair']);
    await bench.advance(250);
    await bench.advance(500);
    expect(running.map((a) => a.outcome)).toEqual(['refused', 'refused']);
    // Two failures were counted, not three: the next one is the third.
    expect(await bench.complete('alice', '192.0.2.1', false)).toBe('refused');
    expect(bench.delayed.map(([, s]) => s)).toEqual([0.25, 0.5, 1]);
  });

  it('never turns away right passwords arriving together for a pair that is not failing (tabs restoring at once)', async () => {
    const bench = new Bench();
    const tabs = Array.from({ length: 5 }, () => bench.try('alice', '192.0.2.1', true));
    await settle();
    expect(tabs.map((t) => t.outcome)).toEqual(new Array(5).fill('accepted'));
    expect(bench.turnedAway).toEqual([]);
  });

  it('cuts a burst that queued before the first failure back to the bound, latest first', async () => {
    const bench = new Bench();
    const burst = Array.from({ length: 5 }, () => bench.try('alice', '192.0.2.1', false));
    await settle();
    expect(burst.map((a) => a.outcome)).toEqual([undefined, undefined, 'busy', 'busy', 'busy']);
    expect(burst.map((a) => a.checked)).toEqual([true, false, false, false, false]);
    expect(bench.turnedAway).toEqual(['pair', 'pair', 'pair']);
    await bench.advance(250);
    await bench.advance(500);
    expect(burst.map((a) => a.outcome)).toEqual(['refused', 'refused', 'busy', 'busy', 'busy']);
    expect(bench.throttle.activePairs).toBe(0);
  });

  it('turns away attempts while the address group has as many failures held back as its bound, whatever the account', async () => {
    const bench = new Bench({ ...SETTINGS, pendingPerAddress: 3 });
    // Right passwords from one address (a big NAT) are never held: they do not use the bound.
    const crowd = Array.from({ length: 10 }, (_, i) => bench.try(`user${i}`, '192.0.2.1', true));
    const spray = ['a', 'b', 'c'].map((user) => bench.try(user, '192.0.2.1', false));
    await settle();
    expect(crowd.map((t) => t.outcome)).toEqual(new Array(10).fill('accepted'));
    const fourth = bench.try('d', '192.0.2.1', true);
    const elsewhere = bench.try('d', '192.0.2.2', true);
    await settle();
    expect(fourth).toEqual({ outcome: 'busy', checked: false });
    expect(bench.turnedAway).toEqual(['address']);
    expect(elsewhere.outcome).toBe('accepted');
    await bench.advance(250);
    expect(spray.map((a) => a.outcome)).toEqual(['refused', 'refused', 'refused']);
    expect(await bench.complete('d', '192.0.2.1', true)).toBe('accepted');
  });

  it('counts an IPv6 client by its /64: new interface identifiers share one turn and one count', async () => {
    const bench = new Bench();
    const first = bench.try('alice', '2001:db8:1:2::1', false);
    const second = bench.try('alice', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', false);
    const third = bench.try('alice', '2001:db8:1:2::ffff', false);
    await settle();
    expect([first.checked, second.checked, third.outcome]).toEqual([true, false, 'busy']);
    await bench.advance(250);
    await bench.advance(500);
    expect([first.outcome, second.outcome]).toEqual(['refused', 'refused']);
    expect(bench.delayed).toEqual([
      ['pair', 0.25],
      ['pair', 0.5],
    ]);
    // Another /64 is another client.
    expect(bench.try('alice', '2001:db8:1:3::1', true).checked).toBe(true);
  });

  it('slows a distributed attacker through the account-wide count, each new address included', async () => {
    const bench = new Bench();
    for (let i = 0; i < 12; i++) await bench.complete('alice', `203.0.113.${i}`, false);
    // Each address failed once (pair delay 250 ms), but the account has 12 failures.
    expect(bench.delayed.at(-1)).toEqual(['account', 1]);
    expect(await bench.complete('alice', '203.0.113.200', true)).toBe('accepted');
  });

  it('forgets the pair after a right password, but keeps the account-wide count', async () => {
    const bench = new Bench();
    for (let i = 0; i < 3; i++) await bench.complete('alice', '192.0.2.1', false);
    expect(await bench.complete('alice', '192.0.2.1', true)).toBe('accepted');
    await bench.complete('alice', '192.0.2.1', false);
    // The pair starts over at 250 ms; the account (4 failures) asks for 250 * 2^(3/4) ms.
    expect(bench.delayed.at(-1)).toEqual(['account', Math.round(250 * 2 ** 0.75) / 1000]);
  });

  it('leaves no lane behind when a check throws (a store unreachable)', async () => {
    const bench = new Bench();
    await expect(
      bench.throttle.attempt('alice', '192.0.2.1', () => {
        throw new Error('store down');
      }),
    ).rejects.toThrow('store down');
    expect(bench.throttle.activePairs).toBe(0);
    expect(await bench.complete('alice', '192.0.2.1', true)).toBe('accepted');
  });
});
