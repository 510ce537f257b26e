/**
 * Bounded polling for a state the test cannot subscribe to (a count in the in-process gateway, a
 * request seen by the browser, a page's state read with evaluate): resolves as soon as `check` holds, fails with `what` at the deadline
 * (a function is read then, so it can describe the state it found). The interval only paces the
 * checks; nothing waits for a fixed time.
 */
export async function until(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
