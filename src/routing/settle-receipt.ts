import type { Settled } from '../base/stream';
import type { SettleClaim } from './resource';

/**
 * Something handed to sessions that is done with only once every copy is settled (see Settled): a
 * bus entry, removed from its stream then; a stored offline message, deleted from storage then. The
 * receipt holds once for the handling itself until `release`, and once for each copy `claim` hands
 * out, so `onSettled` runs exactly once, after the last of them.
 */
export class SettleReceipt {
  private holds = 1;

  constructor(private readonly onSettled: () => void) {}

  readonly claim: SettleClaim = (): Settled => {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.release();
    };
  };

  /** The handling is over: what it handed out is all there is to wait for. Call once. */
  release(): void {
    if (--this.holds === 0) this.onSettled();
  }
}
