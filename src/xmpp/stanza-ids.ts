import type { Element } from 'ltx';
import { parseJid } from '../base/jid';

/** XEP-0359 unique and stable stanza ids. */
export const NS_SID = 'urn:xmpp:sid:0';

/**
 * XEP-0359 §3.1: a <stanza-id/> is trusted only from the entity named in its `by`, so one a client
 * sends that claims to come from this server or one of its users' archives (by = the domain or a
 * bare JID at it) is removed before the message goes anywhere. Ids by other entities (a room, another
 * server) are theirs to check and stay.
 */
export function stripForgedStanzaIds(message: Element, domain: string): void {
  const forged = message.children.filter((child): child is Element => {
    if (typeof child === 'string' || child.name !== 'stanza-id' || child.attrs.xmlns !== NS_SID) return false;
    const by = parseJid(String(child.attrs.by ?? ''));
    return !by || (by.domain === domain && by.resource === '');
  });
  for (const child of forged) message.remove(child);
}

/** The XEP-0359 id `by` gave this message, if it did. */
export function stanzaIdBy(message: Element, by: string): string | undefined {
  for (const child of message.getChildren('stanza-id', NS_SID)) {
    if (child.attrs.by === by) return child.attrs.id as string | undefined;
  }
  return undefined;
}
