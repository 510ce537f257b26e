/**
 * Failed-login counters for the brute-force throttle. A key's count grows with each failure and is
 * forgotten once `ttlMs` passes without one, so an attacker who keeps trying keeps the count, and a
 * quiet key costs nothing. In cluster mode every node counts in the same place (Redis), so N nodes
 * do not give an attacker N budgets.
 */
export interface FailureCounters {
  /** Counts one failure under each key (restarting its expiry); resolves to the new counts, in order. */
  increment(keys: readonly string[]): Promise<number[]>;
  /** Forgets a key's failures. */
  clear(key: string): Promise<void>;
}

interface Entry {
  count: number;
  expiresAt: number;
}

/** This process's counters: a single node, or the fallback while Redis is unreachable. */
export class MemoryFailureCounters implements FailureCounters {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** Keys kept at most (names tried by a sprayer are unbounded): the least recently counted go first. */
    private readonly maxKeys = 100_000,
  ) {}

  async increment(keys: readonly string[]): Promise<number[]> {
    return this.incrementNow(keys);
  }

  /** The same, synchronously (the Redis counters keep a local copy with it). */
  incrementNow(keys: readonly string[]): number[] {
    const now = this.now();
    const counts = keys.map((key) => {
      const entry = this.entries.get(key);
      const count = entry !== undefined && entry.expiresAt > now ? entry.count + 1 : 1;
      // Re-inserted, so the map's order is the order of last failure, which is the order of expiry.
      this.entries.delete(key);
      this.entries.set(key, { count, expiresAt: now + this.ttlMs });
      return count;
    });
    this.evict(now);
    return counts;
  }

  async clear(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** Keys currently counted (for tests and bounds). */
  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size <= this.maxKeys) break;
      this.entries.delete(key);
    }
  }
}
