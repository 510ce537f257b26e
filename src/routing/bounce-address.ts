import type { Element } from 'ltx';
import { parseJid, type Jid } from '../base/jid';

/**
 * RFC 6120 §8.3: where an error reply goes. To a full JID of a user of this domain: an error never goes
 * to offline storage, to several resources, or to the server itself. Or to an address at a component
 * (`isComponent` of its domain) other than the component's own domain: a room, an occupant JID. A room
 * sends as `room@service/nick` or as the room, so that is where the error for a session that is gone
 * comes back, and how the room learns to remove the occupant (XEP-0045 status 333). No loop follows: an
 * error is never answered (errorReply), by the router or by a component's refusal.
 */
export function bounceAddress(reply: Element, domain: string, isComponent: (domain: string) => boolean = () => false): Jid | undefined {
  const to = parseJid(String(reply.attrs.to ?? ''));
  if (!to || to.local === '') return undefined;
  if (to.domain === domain) return to.resource === '' ? undefined : to;
  return isComponent(to.domain) ? to : undefined;
}
