/**
 * The Redis keys of the durable stores in cluster mode, under the cluster's prefix (REDIS_PREFIX).
 * The layout is the one earlier releases wrote, so an upgrade finds its data.
 */
export class RedisStoreKeys {
  constructor(private readonly prefix: string) {}

  /** Hash of SCRAM hash name → encoded keys (src/store/scram-keys.ts encodeKeys). */
  account(user: string): string {
    return `${this.prefix}account:${user}`;
  }
  /** Sorted set (all scores 0) of every account name, for listing in pages (ZRANGEBYLEX). */
  accountNames(): string {
    return `${this.prefix}accounts`;
  }
  roster(user: string): string {
    return `${this.prefix}roster:${user}`;
  }
  rosterVersion(user: string): string {
    return `${this.prefix}roster:${user}:ver`;
  }
  pendingIn(user: string): string {
    return `${this.prefix}roster:${user}:pending`;
  }
  offline(user: string): string {
    return `${this.prefix}offline:${user}`;
  }
  /** The bytes of a user's stored offline stanzas (bounded by OFFLINE_MAX_BYTES). */
  offlineBytes(user: string): string {
    return `${this.prefix}offline:${user}:bytes`;
  }
  documents(user: string): string {
    return `${this.prefix}docs:${user}`;
  }
}
