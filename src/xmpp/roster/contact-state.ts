import type { Subscription } from '../../store/roster-store';

/** RFC 6121 §3: the user's side of one contact, as the roster holds it, plus a waiting inbound request. */
export interface ContactState {
  readonly exists: boolean;
  readonly subscription: Subscription;
  readonly ask: boolean;
  readonly approved: boolean;
  readonly pendingIn: boolean;
}

export const NO_CONTACT: ContactState = { exists: false, subscription: 'none', ask: false, approved: false, pendingIn: false };
