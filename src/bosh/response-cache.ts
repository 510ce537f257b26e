/**
 * XEP-0124 §14.3: the bodies sent for recent rids, kept so a client that lost a response can ask
 * for it again with the same rid. With client acks (§9.1) entries stay until acknowledged.
 * Each entry remembers the key its request carried (§15), so a repeat must show the same key.
 */
export class ResponseCache {
  private readonly entries = new Map<number, { body: string; sentAt: number; key: string | undefined }>();

  constructor(private readonly capacity: number) {}

  put(rid: number, body: string, sentAt: number, key?: string): void {
    this.entries.set(rid, { body, sentAt, key });
    // Map iteration follows insertion order, and rids are answered in ascending order.
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }

  get(rid: number): string | undefined {
    return this.entries.get(rid)?.body;
  }

  /** The key (§15) the request with this rid carried, if any. */
  keyOf(rid: number): string | undefined {
    return this.entries.get(rid)?.key;
  }

  sentAt(rid: number): number | undefined {
    return this.entries.get(rid)?.sentAt;
  }

  /** §9.1: the client has every response up to and including `ack`. */
  acknowledge(ack: number): void {
    for (const rid of this.entries.keys()) {
      if (rid > ack) break;
      this.entries.delete(rid);
    }
  }
}
