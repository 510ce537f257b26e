/**
 * The safety net: a fault while handling one request, stanza or timer ends at most the session it
 * belongs to. `guard` runs one unit of work for one session; a throw (or, for work that returns a
 * promise, a rejection) goes to that session's `onFault` instead of up the stack, where it would
 * reach the event loop and take every other session on the node down with it.
 *
 * `onFault` ends the session (logging the error with the session's correlation id and telling its
 * client internal-server-error); it must not throw itself. If it does anyway, that second error is
 * thrown on: the process-level handlers (safety/process-guards.ts) log it.
 */
export type FaultHandler = (err: unknown) => void;

export function guard<T>(work: () => T, onFault: FaultHandler): T | undefined {
  let result: T;
  try {
    result = work();
  } catch (err) {
    onFault(err);
    return undefined;
  }
  if (isPromise(result)) {
    // The caller keeps the promise; it never rejects, so nothing is left unhandled.
    return result.then(undefined, (err: unknown) => {
      onFault(err);
      return undefined;
    }) as T;
  }
  return result;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
