/** A message kept for a user who was offline (XEP-0160). */
export interface OfflineMessage {
  /** The <message/> as routed, serialised. */
  readonly stanza: string;
  /** When it was stored, for the XEP-0203 delay stamp. */
  readonly storedAt: Date;
}

/** A stored message as a lease hands it over, with the id that settles or releases it. */
export interface LeasedMessage extends OfflineMessage {
  /** The message's id in the store: never given to another message of the user, so a late settle cannot hit a newer one. */
  readonly id: string;
}

/**
 * XEP-0160 storage, handed over at least once: a login takes the messages under a lease, and they
 * are deleted only once their client has them (`settle`). A node that dies before that, or a client
 * that never confirms, leaves them stored; when the lease runs out the next login gets them again,
 * the same stanzas (same `id`, same XEP-0359 stanza-id), so a client can drop the repeat.
 */
export interface OfflineStore {
  /**
   * Stores a message unless the user's queue is full: by count, or by the bytes of the stored
   * stanzas (measured on `message.stanza`, the string kept). Leased messages still count. Returns
   * whether it was stored.
   */
  push(user: string, message: OfflineMessage): Promise<boolean>;
  /**
   * Hands over every stored message of a user that no lease holds, oldest first, under a lease of
   * `leaseMs`: they stay stored but no other lease gets them until it runs out or they are released.
   */
  lease(user: string, leaseMs: number): Promise<LeasedMessage[]>;
  /** Deletes leased messages: their client has them. Ids no longer stored are ignored. */
  settle(user: string, ids: readonly string[]): Promise<void>;
  /** Ends the lease on these messages now (their session ended first): the next lease hands them over again. */
  release(user: string, ids: readonly string[]): Promise<void>;
  /** Messages stored for a user, leased or not. */
  count(user: string): Promise<number>;
  /** Drops every stored message of a user, leased or not, unread (the account is being removed). */
  deleteUser(user: string): Promise<void>;
}

/** One stored message in memory. */
interface Kept {
  readonly id: string;
  readonly message: OfflineMessage;
  readonly bytes: number;
  /** Epoch milliseconds until which a lease holds it; 0: none. */
  leasedUntil: number;
}

export class MemoryOfflineStore implements OfflineStore {
  private readonly queues = new Map<string, Kept[]>();
  private readonly bytes = new Map<string, number>();
  private nextId = 1;

  constructor(
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.POSITIVE_INFINITY,
    /** The clock leases run on. */
    private readonly now: () => number = Date.now,
  ) {}

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    const queue = this.queues.get(user) ?? [];
    const size = Buffer.byteLength(message.stanza);
    const total = (this.bytes.get(user) ?? 0) + size;
    if (queue.length >= this.limitPerUser || total > this.maxBytesPerUser) return false;
    queue.push({ id: String(this.nextId++), message, bytes: size, leasedUntil: 0 });
    this.queues.set(user, queue);
    this.bytes.set(user, total);
    return true;
  }

  async lease(user: string, leaseMs: number): Promise<LeasedMessage[]> {
    const now = this.now();
    const free = (this.queues.get(user) ?? []).filter((kept) => kept.leasedUntil <= now);
    for (const kept of free) kept.leasedUntil = now + leaseMs;
    return free.map((kept) => ({ ...kept.message, id: kept.id }));
  }

  async settle(user: string, ids: readonly string[]): Promise<void> {
    const queue = this.queues.get(user);
    if (!queue) return;
    const settled = new Set(ids);
    const kept = queue.filter((k) => !settled.has(k.id));
    if (kept.length === queue.length) return;
    if (kept.length === 0) return this.deleteUser(user);
    this.queues.set(user, kept);
    this.bytes.set(
      user,
      kept.reduce((sum, k) => sum + k.bytes, 0),
    );
  }

  async release(user: string, ids: readonly string[]): Promise<void> {
    const released = new Set(ids);
    for (const kept of this.queues.get(user) ?? []) if (released.has(kept.id)) kept.leasedUntil = 0;
  }

  async count(user: string): Promise<number> {
    return this.queues.get(user)?.length ?? 0;
  }

  async deleteUser(user: string): Promise<void> {
    this.queues.delete(user);
    this.bytes.delete(user);
  }

  /** Total stored messages (for metrics). */
  get total(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }
}
