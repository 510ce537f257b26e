/** A message kept for a user who was offline (XEP-0160). */
export interface OfflineMessage {
  /** The <message/> as routed, serialised. */
  readonly stanza: string;
  /** When it was stored, for the XEP-0203 delay stamp. */
  readonly storedAt: Date;
}

export interface OfflineStore {
  /**
   * Stores a message unless the user's queue is full: by count, or by the bytes of the stored
   * stanzas (measured on `message.stanza`, the string kept). Returns whether it was stored.
   */
  push(user: string, message: OfflineMessage): Promise<boolean>;
  /** Takes (and removes) every stored message of a user, oldest first. */
  take(user: string): Promise<OfflineMessage[]>;
  count(user: string): Promise<number>;
  /** Drops every stored message of a user, unread (the account is being removed). */
  deleteUser(user: string): Promise<void>;
}

export class MemoryOfflineStore implements OfflineStore {
  private readonly queues = new Map<string, OfflineMessage[]>();
  private readonly bytes = new Map<string, number>();

  constructor(
    private readonly limitPerUser: number,
    private readonly maxBytesPerUser = Number.POSITIVE_INFINITY,
  ) {}

  async push(user: string, message: OfflineMessage): Promise<boolean> {
    const queue = this.queues.get(user) ?? [];
    const size = Buffer.byteLength(message.stanza);
    const total = (this.bytes.get(user) ?? 0) + size;
    if (queue.length >= this.limitPerUser || total > this.maxBytesPerUser) return false;
    queue.push(message);
    this.queues.set(user, queue);
    this.bytes.set(user, total);
    return true;
  }

  async take(user: string): Promise<OfflineMessage[]> {
    const queue = this.queues.get(user) ?? [];
    this.queues.delete(user);
    this.bytes.delete(user);
    return queue;
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
