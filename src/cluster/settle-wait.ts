/**
 * Resolves once `settled()` holds or `ms` have passed, whichever comes first, looking every `pollMs`:
 * how a stopping node gives its clients a moment to confirm what it handed them (BUS_SETTLE_WAIT_MS).
 */
export async function waitForSettling(settled: () => boolean, ms: number, pollMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  for (let left = ms; !settled() && left > 0; left = deadline - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
  }
}
