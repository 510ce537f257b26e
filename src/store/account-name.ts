import { normaliseLocal } from '../base/jid';
import { AccountError } from './account-error';

/** A name given to account management must already be a normalised localpart (RFC 7622 §3.3). */
export function checkUsername(username: string): void {
  if (normaliseLocal(username) !== username) {
    throw new AccountError('invalid-username', `'${username}' is not a normalised XMPP localpart`);
  }
}

/** One page of a sorted list of usernames, after a cursor (shared by the stores that sort in memory). */
export function pageOf(sorted: readonly string[], after: string | undefined, limit: number): { names: string[]; next: string | undefined } {
  let start = 0;
  if (after !== undefined) {
    // Binary search for the first name strictly after the cursor.
    let high = sorted.length;
    while (start < high) {
      const middle = (start + high) >> 1;
      if ((sorted[middle] as string) <= after) start = middle + 1;
      else high = middle;
    }
  }
  const names = sorted.slice(start, start + limit);
  return { names, next: start + limit < sorted.length ? names[names.length - 1] : undefined };
}
