import { createHash } from 'node:crypto';

/**
 * XEP-0124 §15: each request's `key` must hash (SHA-1, hex) to the previous request's key;
 * a `newkey` starts a new sequence. A session that never sent `newkey` uses no keys.
 */
export class KeySequence {
  private expected: string | undefined;

  constructor(initialNewKey?: string) {
    this.expected = initialNewKey?.toLowerCase();
  }

  /** Checks a request's key and advances the sequence. Returns false when the request must be refused. */
  accept(key: string | undefined, newKey: string | undefined): boolean {
    if (this.expected !== undefined) {
      if (key === undefined) return false;
      const digest = createHash('sha1').update(key).digest('hex');
      if (digest !== this.expected) return false;
      this.expected = key.toLowerCase();
    }
    // §15.5: a newkey switches to a new sequence (or starts one).
    if (newKey !== undefined) this.expected = newKey.toLowerCase();
    return true;
  }
}
