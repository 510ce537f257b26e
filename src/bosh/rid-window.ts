/**
 * XEP-0124 §14: where an incoming rid stands relative to the last rid whose payload was processed.
 * - 'next': the one expected now; process it.
 * - 'ahead': inside the window of `requests` rids but with a gap before it; buffer it (§14.2).
 * - 'repeat': already received; answer from the response cache (§14.3).
 * - 'out-of-window': too far ahead; terminal item-not-found (§14.3).
 */
export type RidPosition = 'next' | 'ahead' | 'repeat' | 'out-of-window';

export function classifyRid(rid: number, lastProcessed: number, requests: number): RidPosition {
  if (rid <= lastProcessed) return 'repeat';
  if (rid === lastProcessed + 1) return 'next';
  if (rid <= lastProcessed + requests) return 'ahead';
  return 'out-of-window';
}

/** XEP-0124 §14.1: a rid is a positive integer no larger than 2^53 - 1. */
export function parseRid(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,16}$/.test(value)) return undefined;
  const rid = Number(value);
  return Number.isSafeInteger(rid) && rid > 0 ? rid : undefined;
}
