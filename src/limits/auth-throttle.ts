import { addressGroup } from './address-group';
import type { FailureCounters } from './failure-counters';

export interface AuthThrottleSettings {
  /** How long the answer to the first failed login of an account from one address group is held back. */
  readonly delayMs: number;
  /** The most that delay grows to (it doubles with each failure of the same account from the same group). */
  readonly delayMaxMs: number;
  /** The most the account-wide delay grows to (failures from every address together; it doubles every 4). */
  readonly accountDelayMaxMs: number;
  /** Attempts in progress at once for one account from one address group: one is checked, the others wait their turn. */
  readonly pendingPerPair: number;
  /** Failed attempts from one address group being answered late at once, all accounts together. */
  readonly pendingPerAddress: number;
}

/** accepted: the password was right. refused: it was wrong (answered after the delay). busy: not checked. */
export type AttemptOutcome = 'accepted' | 'refused' | 'busy';

/** Which counter set a failure's delay: the account from this address group, or the account from everywhere. */
export type DelayScope = 'pair' | 'account';

export interface AuthThrottleObserver {
  /** A failed login's answer was held back `seconds`. */
  failureDelayed(scope: DelayScope, seconds: number): void;
  /** An attempt was answered temporary-auth-failure without a check: too many in progress for the pair or the address. */
  attemptTurnedAway(scope: 'pair' | 'address'): void;
}

const silentThrottleObserver: AuthThrottleObserver = {
  failureDelayed: () => undefined,
  attemptTurnedAway: () => undefined,
};

/** The only part of a scheduler the throttle needs (src/bosh/scheduler.ts fits it, and so do fake ones). */
export interface ThrottleTimer {
  setTimeout(fn: () => void, ms: number): unknown;
}

/** The account-wide delay grows more slowly than the pair's: it doubles every this many failures. */
const ACCOUNT_FAILURES_PER_DOUBLING = 4;
/** Past 2^30 every configurable cap is reached; stops the power from overflowing to Infinity. */
const MAX_DOUBLINGS = 30;

function grown(base: number, doublings: number, cap: number): number {
  return Math.min(cap, base * 2 ** Math.min(doublings, MAX_DOUBLINGS));
}

/** How long a failure's answer is held back, given the failures counted so far (this one included). */
export function failureDelay(settings: AuthThrottleSettings, pairFailures: number, accountFailures: number): { ms: number; scope: DelayScope } {
  const pair = pairFailures < 1 ? 0 : grown(settings.delayMs, pairFailures - 1, settings.delayMaxMs);
  const account = accountFailures < 1 ? 0 : grown(settings.delayMs, (accountFailures - 1) / ACCOUNT_FAILURES_PER_DOUBLING, settings.accountDelayMaxMs);
  return account > pair ? { ms: Math.round(account), scope: 'account' } : { ms: Math.round(pair), scope: 'pair' };
}

/**
 * The attempts of one (account, address group) pair: the first is checked, the others wait in
 * order. `failing` once a check in it failed (until one succeeds): only then is the queue bounded.
 */
interface Lane {
  size: number;
  failing: boolean;
  /** Each waiter is told whether it gets its turn (true) or is turned away (false). */
  readonly waiting: Array<(turn: boolean) => void>;
}

/**
 * Brute-force protection for SASL that slows failures down and never locks anyone out.
 *
 * A wrong password is answered late, by a delay that doubles with each failure of the account from
 * the same address group (capped at a few seconds) and by a slower-growing one for the account from
 * every address (capped lower). A right password is answered at once, whatever the counts.
 *
 * Holding the answer back only slows an attacker if he cannot simply send more attempts side by
 * side, so the attempts of one pair are checked one at a time: the next one only when the previous
 * one's answer has gone out. Once the pair is failing, only a few may wait their turn; the others
 * (and any while too many failures of the address group are being held back, a sprayer trying many
 * accounts) are answered temporary-auth-failure without being checked and without being counted:
 * they prove nothing about the password. One address so gets at
 * most one guess per delay per account and node, while the real user from another address is
 * checked at once, and from the same address waits at most a turn or two. Right passwords arriving
 * together (tabs restoring at once) are never turned away: a pair that has not failed only queues.
 */
export class AuthThrottle {
  private readonly lanes = new Map<string, Lane>();
  /** Per address group: failed attempts whose answer is being held back right now. */
  private readonly delaying = new Map<string, number>();

  constructor(
    private readonly settings: AuthThrottleSettings,
    private readonly counters: FailureCounters,
    private readonly timer: ThrottleTimer,
    private readonly observer: AuthThrottleObserver = silentThrottleObserver,
  ) {}

  /** Runs one password check for `username` from `address` under the throttle. */
  async attempt(username: string, address: string | undefined, check: () => boolean | Promise<boolean>): Promise<AttemptOutcome> {
    const group = addressGroup(address) ?? '';
    // '@' never occurs in a localpart (RFC 7622 §3.3.1), so the pair key is unambiguous.
    const pair = `${username}@${group}`;
    let lane = this.lanes.get(pair);
    if (lane !== undefined && lane.failing && lane.size >= this.settings.pendingPerPair) return this.turnedAway('pair');
    if ((this.delaying.get(group) ?? 0) >= this.settings.pendingPerAddress) return this.turnedAway('address');
    if (lane === undefined) {
      lane = { size: 0, failing: false, waiting: [] };
      this.lanes.set(pair, lane);
    }
    const own = lane;
    const mustWait = own.size > 0;
    own.size++;
    let holding = false;
    try {
      if (mustWait && !(await new Promise<boolean>((turn) => own.waiting.push(turn)))) return this.turnedAway('pair');
      holding = true;
      return await this.checked(username, group, own, check);
    } finally {
      own.size--;
      if (holding) {
        const next = own.waiting.shift();
        if (next) next(true);
      }
      if (own.size === 0) this.lanes.delete(pair);
    }
  }

  private turnedAway(scope: 'pair' | 'address'): AttemptOutcome {
    this.observer.attemptTurnedAway(scope);
    return 'busy';
  }

  private async checked(username: string, group: string, lane: Lane, check: () => boolean | Promise<boolean>): Promise<AttemptOutcome> {
    const pair = `${username}@${group}`;
    if (await check()) {
      lane.failing = false;
      // The user proved themselves from this group: its count starts over (not awaited: the
      // counters never reject, and one connection keeps Redis commands in order). The account's
      // count stays, so an attacker elsewhere gains nothing from the user logging in.
      void this.counters.clear(`pair:${pair}`);
      return 'accepted';
    }
    if (!lane.failing) {
      lane.failing = true;
      // A burst that queued while the pair was not failing is cut back to the bound, latest first.
      while (lane.waiting.length > this.settings.pendingPerPair - 1) (lane.waiting.pop() as (turn: boolean) => void)(false);
    }
    const [pairFailures = 1, accountFailures = 1] = await this.counters.increment([`pair:${pair}`, `account:${username}`]);
    const delay = failureDelay(this.settings, pairFailures, accountFailures);
    if (delay.ms > 0) {
      this.observer.failureDelayed(delay.scope, delay.ms / 1000);
      this.delaying.set(group, (this.delaying.get(group) ?? 0) + 1);
      try {
        // A timer, not a wait in the loop: the node serves everyone else meanwhile.
        await new Promise<void>((resolve) => this.timer.setTimeout(resolve, delay.ms));
      } finally {
        const left = (this.delaying.get(group) ?? 1) - 1;
        if (left > 0) this.delaying.set(group, left);
        else this.delaying.delete(group);
      }
    }
    return 'refused';
  }

  /** Pairs with attempts in progress (for tests: nothing is left behind). */
  get activePairs(): number {
    return this.lanes.size;
  }
}
