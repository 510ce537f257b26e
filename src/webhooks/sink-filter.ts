import type { WebhookFilterRecord } from '../store/webhook-store';
import type { WebhookEvent } from './webhook-event';

/** The domain of a JID string (RFC 7622 §3.2): between the '@' (if any) and the '/' (if any). */
export function domainOf(jid: string): string {
  const slash = jid.indexOf('/');
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  const at = bare.indexOf('@');
  return (at === -1 ? bare : bare.slice(at + 1)).toLowerCase();
}

/**
 * Whether a sink's filter lets an event through. Each list given must match (an AND of the lists; any
 * entry of a list matches it); an event without a room never passes a `rooms` filter.
 */
export function passesFilter(filter: WebhookFilterRecord | undefined, event: WebhookEvent): boolean {
  if (!filter) return true;
  if (filter.fromDomains && filter.fromDomains.length > 0 && !filter.fromDomains.includes(domainOf(event.from))) return false;
  if (filter.toDomains && filter.toDomains.length > 0 && !filter.toDomains.includes(domainOf(event.to))) return false;
  if (filter.rooms && filter.rooms.length > 0 && (event.room === undefined || !filter.rooms.includes(event.room.toLowerCase()))) return false;
  return true;
}
