/**
 * Every Redis key of the cluster's shared state, in one place (prefix configurable for shared Redis
 * servers). The durable stores' keys are in src/store/redis/store-keys.ts, under the same prefix.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  /** The set of node ids that ever joined (the reaper walks it). */
  nodes(): string {
    return `${this.prefix}nodes`;
  }
  /** A node's heartbeat (expires when the node stops beating); its value is the node's internal URL. */
  alive(node: string): string {
    return `${this.prefix}node:${node}:alive`;
  }
  /**
   * The kinds of bus message a node reads, space-separated, renewed and expiring with its heartbeat
   * (routing/bus-kinds.ts). A separate key: the heartbeat's value stays the URL older releases read.
   */
  busKinds(node: string): string {
    return `${this.prefix}node:${node}:bus-kinds`;
  }
  /** Sids a node owns, and users with resources on it (what to clean when it dies). */
  nodeSids(node: string): string {
    return `${this.prefix}node:${node}:sids`;
  }
  nodeUsers(node: string): string {
    return `${this.prefix}node:${node}:users`;
  }
  /** sid → owning node. */
  sid(sid: string): string {
    return `${this.prefix}sid:${sid}`;
  }
  /** user bare JID → hash of resource → route entry. */
  routes(bare: string): string {
    return `${this.prefix}routes:${bare}`;
  }
  /** Stanzas on their way to a node (a stream, consumed and trimmed by that node). */
  bus(node: string): string {
    return `${this.prefix}bus:${node}`;
  }
  /**
   * Messages this node delivered to its own sessions and whose clients have not confirmed them yet
   * (a stream its bus reader never reads): the reaper routes again what a dead node left in it.
   */
  journal(node: string): string {
    return `${this.prefix}journal:${node}`;
  }
  reapLock(node: string): string {
    return `${this.prefix}reap:${node}`;
  }
  /** A failed-login counter of the brute-force throttle (`pair:user@group` or `account:user`). */
  authFailures(key: string): string {
    return `${this.prefix}authfail:${key}`;
  }
}
