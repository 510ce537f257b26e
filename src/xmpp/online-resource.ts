import type { Element } from 'ltx';
import type { LocalResource } from '../routing/router';

/**
 * A session bound on this node, with the per-session state of RFC 6121 (availability, last
 * presence, directed presence, interest in the roster) and XEP-0280 (carbons), which it changes.
 * After a change, `router.changed(session)` tells the rest of the cluster.
 */
export interface OnlineResource extends LocalResource {
  available: boolean;
  priority: number;
  /** The last broadcast available presence, as sent to contacts (RFC 6121 §4.2). */
  lastPresence: Element | undefined;
  /** Full JIDs that received directed presence and must hear 'unavailable' (RFC 6121 §4.6.3). */
  readonly directed: Set<string>;
  /** Requested the roster: an "interested resource" that gets roster pushes (RFC 6121 §2.1.6). */
  interested: boolean;
  /** XEP-0280: receives copies of this account's messages. */
  carbons: boolean;
}
