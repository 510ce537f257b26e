/**
 * Counts events per key over a sliding window approximated by two fixed windows (the previous one
 * weighted by how much of it still overlaps). Bounded memory: keys idle for two windows vanish.
 */
export class WindowCounter {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private windowStart: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  private roll(): void {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs) return;
    // One window passed: current becomes previous. Two or more: both are stale.
    this.previous = elapsed < 2 * this.windowMs ? this.current : new Map();
    this.current = new Map();
    this.windowStart = now - (elapsed % this.windowMs);
  }

  count(key: string): number {
    this.roll();
    const overlap = 1 - (this.now() - this.windowStart) / this.windowMs;
    return (this.current.get(key) ?? 0) + (this.previous.get(key) ?? 0) * overlap;
  }

  add(key: string): number {
    this.roll();
    this.current.set(key, (this.current.get(key) ?? 0) + 1);
    return this.count(key);
  }
}
