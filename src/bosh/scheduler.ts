/**
 * Time as the transport sees it. Injected so every timer rule (wait, inactivity, pause, polling)
 * can be tested with fake timers.
 */
export interface Scheduler {
  /** Milliseconds on a monotonic clock (only differences are meaningful). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs fn after the current event-loop turn: used to coalesce output into one response. */
  defer(fn: () => void): void;
}

export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export const realScheduler: Scheduler = {
  // Monotonic milliseconds: intervals stay right when the wall clock is adjusted.
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // Session timers must never keep a stopping process alive.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (fn) => setImmediate(fn),
};
