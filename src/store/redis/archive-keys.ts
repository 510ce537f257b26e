/**
 * The Redis keys of the message archive (src/store/redis/redis-archive-store.ts), under the cluster's
 * prefix (REDIS_PREFIX). An owner's keys all start with `archive:<owner>:`, a sequence counter with
 * `archive-seq:`.
 */
export class RedisArchiveKeys {
  constructor(private readonly prefix: string) {}

  /** Counter: the last sequence number of a conversation. Never expires: a number is never given twice. */
  seq(conversation: string): string {
    return `${this.prefix}archive-seq:${conversation}`;
  }
  /** Sorted set: the owner's archive ids, scored by place in the archive (milliseconds × 1000, rising). */
  order(owner: string): string {
    return `${this.prefix}archive:${owner}:order`;
  }
  /** Hash: archive id → the message as this owner's archive holds it (JSON). */
  messages(owner: string): string {
    return `${this.prefix}archive:${owner}:messages`;
  }
  /** Sorted set: the owner's archive ids with one party (the XEP-0313 'with' filter), scored as in order(). */
  withPrefix(owner: string): string {
    return `${this.prefix}archive:${owner}:with:`;
  }
  /** Sorted set: the owner's archive ids of one conversation, scored by sequence number. */
  conversationPrefix(owner: string): string {
    return `${this.prefix}archive:${owner}:conversation:`;
  }
  /** Set: every with/conversation key of the owner, so deleting an archive finds them all. */
  index(owner: string): string {
    return `${this.prefix}archive:${owner}:keys`;
  }
}
