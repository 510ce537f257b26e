import { guard, type FaultHandler } from '../safety/guard';
import type { Scheduler, TimerHandle } from './scheduler';

/**
 * One session's view of the scheduler: each of its timer callbacks and deferred flushes runs under
 * the safety net, so a throw there ends that session (through `onFault`) and never reaches the event
 * loop, where it would end the process and every session in it.
 */
export function guardedScheduler(scheduler: Scheduler, onFault: FaultHandler): Scheduler {
  return new GuardedScheduler(scheduler, onFault);
}

/** Methods on the prototype: every session holds two references, not four closures of its own. */
class GuardedScheduler implements Scheduler {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly onFault: FaultHandler,
  ) {}

  now(): number {
    return this.scheduler.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.scheduler.setTimeout(() => guard(fn, this.onFault), ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.scheduler.clearTimeout(handle);
  }

  defer(fn: () => void): void {
    this.scheduler.defer(() => guard(fn, this.onFault));
  }
}
