import type { Element } from 'ltx';
import type { Settled } from '../base/stream';

/** One element on its way to the client, with whom to tell once it is settled. */
export interface Outgoing {
  readonly element: Element;
  readonly settled: Settled | undefined;
}

/** Settles each element someone waits on. */
export function settleAll(items: readonly Outgoing[]): void {
  for (const item of items) item.settled?.();
}

/**
 * What went out in responses the client has not yet shown it received (XEP-0124 §9.1: its `ack`,
 * or, without acks, a later request: a client has at most `requests` unanswered, so sending rid R
 * means it has the responses up to R - requests). Until then a response may have been written to a
 * socket already gone, or held by a node that died on the way. Messages, iqs and anything someone
 * waits on are kept; when the session ends without their receipt they go back to the session to be
 * routed again (offline storage, or an error to the sender), never lost.
 */
export class UnconfirmedOutput {
  private sent: Array<{ readonly rid: number; readonly items: readonly Outgoing[] }> = [];

  /** `capacity`: responses kept at most; beyond it the oldest is taken as received (it left the response cache too). */
  constructor(private readonly capacity: number) {}

  record(rid: number, items: readonly Outgoing[]): void {
    const kept = items.filter((item) => item.settled !== undefined || worthRoutingAgain(item.element));
    if (kept.length === 0) return;
    this.sent.push({ rid, items: kept });
    while (this.sent.length > this.capacity) settleAll(this.sent.shift()?.items ?? []);
  }

  /** Whether some response carrying stanzas is not confirmed yet. */
  get waiting(): boolean {
    return this.sent.length > 0;
  }

  /** The client has every response up to and including `rid`. */
  confirm(rid: number): void {
    if (this.sent.length === 0) return;
    const received = this.sent.filter((s) => s.rid <= rid);
    if (received.length === 0) return;
    this.sent = this.sent.filter((s) => s.rid > rid);
    for (const response of received) settleAll(response.items);
  }

  /** Everything not known to be received, oldest first (the session is ending). */
  takeAll(): Outgoing[] {
    const all = this.sent.flatMap((s) => s.items);
    this.sent = [];
    return all;
  }
}

/** What a session routes again when its client never got it: messages (offline storage) and iqs (an error to the sender). */
function worthRoutingAgain(element: Element): boolean {
  return (element.name === 'message' || element.name === 'iq') && element.attrs.type !== 'error';
}
