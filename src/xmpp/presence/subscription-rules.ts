import type { Subscription } from '../../store/roster-store';
import type { ContactState } from '../roster/contact-state';

/** RFC 6121 §3: the four subscription presence types. */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';
}

/** What to do: the new state (when it changed) and the side effects, all decided up front. */
export interface SubscriptionOutcome {
  /** The new state, or undefined when nothing changes (no roster push). */
  readonly next: ContactState | undefined;
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the user's resources. */
  readonly pass: boolean;
  /** Inbound only: answer the contact with <presence type='subscribed'/> on the user's behalf. */
  readonly autoSubscribed: boolean;
  /** Send the user's available presences to the contact (a subscription from the contact began). */
  readonly sendPresence: boolean;
  /** Send unavailable from the user's resources to the contact (that subscription ended). */
  readonly sendUnavailable: boolean;
}

const hasTo = (s: Subscription): boolean => s === 'to' || s === 'both';
const hasFrom = (s: Subscription): boolean => s === 'from' || s === 'both';
const addTo = (s: Subscription): Subscription => (s === 'from' || s === 'both' ? 'both' : 'to');
const addFrom = (s: Subscription): Subscription => (s === 'to' || s === 'both' ? 'both' : 'from');
const dropTo = (s: Subscription): Subscription => (s === 'both' || s === 'from' ? 'from' : 'none');
const dropFrom = (s: Subscription): Subscription => (s === 'both' || s === 'to' ? 'to' : 'none');

function outcome(next: ContactState | undefined, pass: boolean, extra: Partial<SubscriptionOutcome> = {}): SubscriptionOutcome {
  return { next, pass, autoSubscribed: false, sendPresence: false, sendUnavailable: false, ...extra };
}

/** RFC 6121 §3 and Appendix A.2/A.3: the user sends a subscription stanza to the contact. */
export function outbound(type: SubscriptionType, state: ContactState): SubscriptionOutcome {
  const s = state.subscription;
  switch (type) {
    case 'subscribe':
      // §3.1.2: the item gets ask='subscribe' (created if needed) unless already subscribed.
      if (hasTo(s)) return outcome(undefined, true);
      return outcome(state.ask && state.exists ? undefined : { ...state, exists: true, ask: true }, true);
    case 'subscribed':
      // §3.1.5: approving a waiting request; §3.4: otherwise a pre-approval.
      if (state.pendingIn) {
        return outcome({ ...state, exists: true, subscription: addFrom(s), pendingIn: false, approved: false }, true, { sendPresence: true });
      }
      if (hasFrom(s) || state.approved) return outcome(undefined, false);
      return outcome({ ...state, exists: true, approved: true }, false);
    case 'unsubscribe':
      // §3.3.2: the user no longer wants the contact's presence.
      if (!hasTo(s) && !state.ask) return outcome(undefined, false);
      return outcome({ ...state, subscription: dropTo(s), ask: false }, true);
    case 'unsubscribed':
      // §3.2.2: cancelling the contact's subscription, or denying a waiting request.
      if (hasFrom(s)) {
        return outcome({ ...state, subscription: dropFrom(s), pendingIn: false, approved: false }, true, { sendUnavailable: true });
      }
      if (state.pendingIn || state.approved) return outcome({ ...state, pendingIn: false, approved: false }, state.pendingIn);
      return outcome(undefined, false);
  }
}

/** RFC 6121 §3 and Appendix A.2/A.3: the contact's subscription stanza reaches the user. */
export function inbound(type: SubscriptionType, state: ContactState): SubscriptionOutcome {
  const s = state.subscription;
  switch (type) {
    case 'subscribe':
      // §3.1.3: already subscribed, or pre-approved: the server answers for the user.
      if (hasFrom(s)) return outcome(undefined, false, { autoSubscribed: true });
      if (state.approved) {
        return outcome({ ...state, subscription: addFrom(s), approved: false }, false, { autoSubscribed: true, sendPresence: true });
      }
      // Otherwise it waits for the user (kept and redelivered at login) and goes to their resources.
      return outcome(state.pendingIn ? undefined : { ...state, pendingIn: true }, true);
    case 'subscribed':
      // §3.1.6: only an answer to the user's own request counts.
      if (!state.ask || hasTo(s)) return outcome(undefined, false);
      return outcome({ ...state, exists: true, subscription: addTo(s), ask: false }, true);
    case 'unsubscribe':
      // §3.3.3: the contact no longer wants the user's presence.
      if (hasFrom(s)) {
        return outcome({ ...state, subscription: dropFrom(s), pendingIn: false }, true, { sendUnavailable: true });
      }
      if (state.pendingIn) return outcome({ ...state, pendingIn: false }, true);
      return outcome(undefined, false);
    case 'unsubscribed':
      // §3.2.3: the contact cancelled or denied the user's subscription.
      if (!hasTo(s) && !state.ask) return outcome(undefined, false);
      return outcome({ ...state, subscription: dropTo(s), ask: false }, true);
  }
}
