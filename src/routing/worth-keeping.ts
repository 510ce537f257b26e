import type { Element } from 'ltx';

/** XEP-0334 message processing hints. */
const NS_HINTS = 'urn:xmpp:hints';

/**
 * XEP-0160: whether offline storage keeps a message: normal or chat with a body or a store hint
 * (XEP-0334); chat states and receipts alone are not kept, nor anything marked no-store.
 */
export function worthKeepingOffline(message: Element): boolean {
  const type = (message.attrs.type as string | undefined) ?? 'normal';
  if (type !== 'normal' && type !== 'chat') return false;
  if (message.getChild('no-store', NS_HINTS) || message.getChild('no-permanent-store', NS_HINTS)) return false;
  return message.getChild('body') !== undefined || message.getChild('store', NS_HINTS) !== undefined;
}

/**
 * Whether a message handed to a session of this node is journaled until its client confirms it (so
 * that a crash of the node does not lose it): what offline storage would keep, and a groupchat
 * message with a body. Routed again after a crash, the first goes to the user's other resources or
 * offline storage, the second to the room as an error (the occupant is gone); a chat state, a
 * receipt or a no-store message would be dropped there anyway, so it is not worth a Redis write.
 */
export function worthJournaling(message: Element): boolean {
  if (message.name !== 'message') return false;
  if (message.attrs.type === 'groupchat') return message.getChild('body') !== undefined;
  return worthKeepingOffline(message);
}
