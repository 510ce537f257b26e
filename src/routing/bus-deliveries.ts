import type { Element } from 'ltx';
import { parseJid, type Jid } from '../base/jid';
import { cloneElement, parseStrictXml } from '../xml';
import type { BusMessage } from './route-table';

/** One stanza for one resource, out of a bus message. */
export interface BusDelivery {
  readonly to: Jid;
  readonly stanza: Element;
  readonly hops: number;
}

/**
 * The stanzas a bus message carries, one per recipient in the message's order: one for 'deliver'; one
 * per address for 'fanout' (parsed once, a copy addressed to each); none for the other kinds. A
 * malformed address is skipped (nodes only write what they parsed, so it does not happen).
 */
export function busDeliveries(message: BusMessage): BusDelivery[] {
  if (message.kind === 'deliver') {
    const to = parseJid(message.to);
    return to ? [{ to, stanza: parseStrictXml(message.stanza), hops: message.hops }] : [];
  }
  if (message.kind !== 'fanout') return [];
  const shared = parseStrictXml(message.stanza);
  const deliveries: BusDelivery[] = [];
  for (const address of message.to) {
    const to = parseJid(address);
    if (!to) continue;
    const stanza = cloneElement(shared);
    stanza.attrs.to = to.full;
    deliveries.push({ to, stanza, hops: message.hops });
  }
  return deliveries;
}
