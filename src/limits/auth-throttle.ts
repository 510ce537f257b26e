import { WindowCounter } from './window-counter';

export interface AuthThrottleLimits {
  /** Failed logins allowed per account within the window. */
  readonly perAccount: number;
  /** Failed logins allowed per client address within the window. */
  readonly perAddress: number;
  readonly windowMs: number;
}

/**
 * Brute-force protection for SASL: past the limit of failures within the window, an account or a
 * client address is refused (temporary-auth-failure) without a password check.
 */
export class AuthThrottle {
  private readonly accounts: WindowCounter;
  private readonly addresses: WindowCounter;

  constructor(
    private readonly limits: AuthThrottleLimits,
    now: () => number = Date.now,
  ) {
    this.accounts = new WindowCounter(limits.windowMs, now);
    this.addresses = new WindowCounter(limits.windowMs, now);
  }

  addressAllowed(address: string | undefined): boolean {
    return address === undefined || this.addresses.count(address) < this.limits.perAddress;
  }

  accountAllowed(username: string): boolean {
    return this.accounts.count(username) < this.limits.perAccount;
  }

  failed(username: string | undefined, address: string | undefined): void {
    if (username !== undefined) this.accounts.add(username);
    if (address !== undefined) this.addresses.add(address);
  }
}
