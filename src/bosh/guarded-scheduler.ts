import { guard, type FaultHandler } from '../safety/guard';
import type { Scheduler } from './scheduler';

/**
 * One session's view of the scheduler: each of its timer callbacks and deferred flushes runs under
 * the safety net, so a throw there ends that session (through `onFault`) and never reaches the event
 * loop, where it would end the process and every session in it.
 */
export function guardedScheduler(scheduler: Scheduler, onFault: FaultHandler): Scheduler {
  return {
    now: () => scheduler.now(),
    setTimeout: (fn, ms) => scheduler.setTimeout(() => guard(fn, onFault), ms),
    clearTimeout: (handle) => scheduler.clearTimeout(handle),
    defer: (fn) => scheduler.defer(() => guard(fn, onFault)),
  };
}
