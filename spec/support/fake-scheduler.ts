import type { Scheduler, TimerHandle } from '../../src/bosh/scheduler';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A manual clock: timers fire only when a test advances time; deferred work runs on `runDeferred`. */
export class FakeScheduler implements Scheduler {
  private time = 1_000_000;
  private nextId = 1;
  private timers: FakeTimer[] = [];
  private deferred: Array<() => void> = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + ms, fn };
    this.timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== (handle as unknown as number));
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  runDeferred(): void {
    while (this.deferred.length > 0) (this.deferred.shift() as () => void)();
  }

  /** Advances the clock, firing due timers in time order (deferred work runs after each). */
  advance(ms: number): void {
    const end = this.time + ms;
    this.runDeferred();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
      this.runDeferred();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
