import type { Element } from 'ltx';
import type { Logger } from '../../observability/logger';
import { SettleReceipt } from '../../routing/settle-receipt';
import type { OfflineStore } from '../../store/offline-store';

/** A stored message on its way to a client under a lease. */
interface HandOver {
  readonly user: string;
  readonly id: string;
  /** Routed back to storage before its client confirmed it: its lease was ended, it is not to be deleted. */
  givenBack: boolean;
}

/**
 * Stored messages handed over under a lease (XEP-0160, at least once), followed until they are
 * settled the way bus entries are: the session's transport calls the Settled it was given once the
 * client has the stanza (XEP-0124 §9 ack or a later rid), and the message is deleted from storage
 * then. A copy that comes back to storage first (its session ended unconfirmed and routed it again)
 * is given back instead: the stored original's lease ends, so the next login gets the same stanza
 * and nothing is stored twice. Deletions that settle together go to the store in one call.
 */
export class LeasedHandOvers {
  private readonly out = new WeakMap<Element, HandOver>();
  private queued = new Map<string, string[]>();
  private flushing: Promise<void> | undefined;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly store: OfflineStore,
    private readonly logger: Logger,
  ) {}

  /** A receipt for the leased message `id` going out as `stanza`: once settled, the message is deleted (unless given back first). */
  receipt(user: string, id: string, stanza: Element): SettleReceipt {
    const handOver: HandOver = { user, id, givenBack: false };
    this.out.set(stanza, handOver);
    return new SettleReceipt(() => {
      if (this.out.get(stanza) === handOver) this.out.delete(stanza);
      if (!handOver.givenBack) this.delete(user, id);
    });
  }

  /**
   * Whether `stanza` is a leased copy of one of `user`'s stored messages, still out: then its lease
   * ends now (the stored original is handed over again at the next login) and it is not deleted
   * when its receipt settles.
   */
  async giveBack(user: string, stanza: Element): Promise<boolean> {
    const handOver = this.out.get(stanza);
    if (!handOver || handOver.user !== user || handOver.givenBack) return false;
    handOver.givenBack = true;
    this.out.delete(stanza);
    await this.store.release(user, [handOver.id]);
    return true;
  }

  /** Deletes a stored message (its client has it, or it is never to be delivered), batched with others settling now. */
  delete(user: string, id: string): void {
    const ids = this.queued.get(user);
    if (ids) ids.push(id);
    else this.queued.set(user, [id]);
    // Every Settled of one confirmed response is called in one go: one store call for all of them.
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  /** Resolves once every deletion asked for so far has reached the store (or failed, logged). */
  async idle(): Promise<void> {
    while (this.flushing || this.writes.size > 0) {
      await this.flushing;
      await Promise.all([...this.writes]);
    }
  }

  private flush(): void {
    this.flushing = undefined;
    const queued = this.queued;
    this.queued = new Map();
    for (const [user, ids] of queued) {
      const write = this.store.settle(user, ids).catch((err: unknown) => {
        // Still stored under a lease that runs out: handed over again at a later login, same stanza.
        this.logger.warn({ err, user, messages: ids.length }, 'could not delete offline messages their client has; they will be handed over again');
      });
      this.writes.add(write);
      void write.finally(() => this.writes.delete(write));
    }
  }
}
