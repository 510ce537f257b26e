import type { Element } from 'ltx';
import type { Jid } from '../base/jid';
import type { Settled } from '../base/stream';
import { serializeXml } from '../xml';
import type { SettleClaim } from './resource';
import type { MessageJournal } from './route-table';
import { SettleReceipt } from './settle-receipt';
import { worthJournaling } from './worth-keeping';

/** A message on its way to this node's sessions under a journal entry: a claim for each copy, then `release`. */
export interface JournaledDelivery {
  readonly claim: SettleClaim;
  /** Every copy is claimed: the entry goes once they are all settled. Call once. */
  release(): void;
  readonly written: Promise<void>;
}

/**
 * Journals a message routed to `to` that goes to at least one session of this node, unless someone
 * else already keeps it until its client has it (`claimed`: a bus entry, a stored offline message)
 * or it is not worth it (worthJournaling). The entry records the message as it was routed, so that
 * routing it again reaches the user as routing it the first time did.
 */
export function journalDelivery(
  journal: MessageJournal | undefined,
  stanza: Element,
  to: Jid,
  hops: number,
  toLocalSession: boolean,
  claimed: boolean,
): JournaledDelivery | undefined {
  if (!journal || !toLocalSession || claimed || !worthJournaling(stanza)) return undefined;
  const entry = journal.keep({ kind: 'deliver', to: to.full, stanza: serializeXml(stanza), hops });
  const receipt = new SettleReceipt(entry.settled);
  return { claim: receipt.claim, release: () => receipt.release(), written: entry.written };
}

/** One callback for two who wait on the same copy (either may be absent). */
export function bothSettled(first: Settled | undefined, second: Settled | undefined): Settled | undefined {
  if (!first || !second) return first ?? second;
  return () => {
    first();
    second();
  };
}
