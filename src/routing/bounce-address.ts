import type { Element } from 'ltx';
import { parseJid, type Jid } from '../base/jid';

/**
 * RFC 6120 §8.3: where an error reply goes. Only to a full JID of a user of this domain: an error
 * never goes to offline storage, to several resources, or to the server itself.
 */
export function bounceAddress(reply: Element, domain: string): Jid | undefined {
  const to = parseJid(String(reply.attrs.to ?? ''));
  if (!to || to.local === '' || to.domain !== domain || to.resource === '') return undefined;
  return to;
}
