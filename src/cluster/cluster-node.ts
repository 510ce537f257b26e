import type Redis from 'ioredis';
import type { BoshTransport } from '../bosh';
import type { Logger } from '../observability/logger';
import type { Router } from '../routing/router';
import type { BusMessage, ClusterLink, RouteEntry } from '../routing/route-table';
import { busDeliveries } from '../routing/bus-deliveries';
import type { OutboxBounds } from './bus-outbox';
import { BoshForwarder, DEFAULT_FORWARD_TIMING, type ForwardObserver } from './forwarder';
import { JournalReplay } from './journal-replay';
import type { RedisKeys } from './keys';
import { Membership, type MembershipTiming } from './membership';
import { RedisBus } from './redis-bus';
import { RedisJournal, type JournalObserver } from './redis-journal';
import { RedisRouteTable } from './redis-route-table';
import { SessionRegistry } from './session-registry';

export interface ClusterOptions {
  readonly node: string;
  readonly internalUrl: string;
  readonly boshPath: string;
  readonly secret: string;
  readonly timing: MembershipTiming;
  /** How long a forwarded request may go unanswered: a little above the longest BOSH wait. */
  readonly forwardTimeoutMs?: number;
  /** Bus messages waiting for Redis during an outage: how many, and for how long at most. */
  readonly outbox?: OutboxBounds;
  /** Users whose last known routes are kept for when Redis cannot answer. */
  readonly routeCacheUsers?: number;
  /** Milliseconds a stopping node waits at most for its clients to confirm what it handed them from its stream. */
  readonly settleWaitMs?: number;
  /** Whether messages handed to this node's own sessions are journaled until their clients confirm them (BUS_JOURNAL, default on). */
  readonly journal?: boolean;
}

/** What the cluster asks of the XMPP side when a node dies: its users' contacts hear 'unavailable'. */
export type ResourceGoneHandler = (bare: string, entry: RouteEntry) => Promise<void>;

/**
 * This node's membership in the cluster: heartbeat, the sid registry, the route table, the bus
 * and the reaper that cleans up after dead nodes. Every node reaps; a lock makes one do each.
 */
export class ClusterNode implements ClusterLink {
  readonly routes: RedisRouteTable;
  readonly bus: RedisBus;
  readonly registry: SessionRegistry;
  readonly membership: Membership;
  readonly forwarder: BoshForwarder;
  /** Absent with BUS_JOURNAL=false: a crash of this node then loses what its own sessions' clients had not confirmed. */
  readonly journal: RedisJournal | undefined;
  private readonly journals: JournalReplay;
  /** The newest entry this node's journal held when it started (its own from before a restart), until replayed. */
  private ownLeftover: string | undefined;
  private replayingOwn = false;
  private reaper: NodeJS.Timeout | undefined;
  private router: Router | undefined;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    busReader: Redis,
    keys: RedisKeys,
    private readonly options: ClusterOptions,
    private readonly logger: Logger,
    observer: ForwardObserver & JournalObserver,
  ) {
    this.membership = new Membership(redis, keys, options.node, options.internalUrl, options.timing);
    this.routes = new RedisRouteTable(redis, keys, options.routeCacheUsers);
    this.registry = new SessionRegistry(redis, keys, options.node);
    this.bus = new RedisBus(redis, busReader, keys, options.node, (node) => this.membership.isAlive(node), logger, options.outbox, options.settleWaitMs);
    this.journal = options.journal === false ? undefined : new RedisJournal(redis, keys, options.node, logger, observer);
    this.journals = new JournalReplay(redis, keys, logger, options.node);
    this.forwarder = new BoshForwarder(this.registry, this.membership, options.boshPath, options.secret, logger, observer, {
      ...DEFAULT_FORWARD_TIMING,
      timeoutMs: options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMING.timeoutMs,
    });
  }

  get node(): string {
    return this.options.node;
  }

  isAlive(node: string): Promise<boolean> {
    return this.membership.isAlive(node);
  }

  busKinds(node: string): Promise<ReadonlySet<string>> {
    return this.membership.busKinds(node);
  }

  /** Joins the cluster and starts serving: bus reading, registry upkeep, reaping. */
  async start(transport: BoshTransport, router: Router, resourceGone: ResourceGoneHandler): Promise<void> {
    // Taken for dead (frozen, or cut off from Redis, past the TTL) and reaped: contacts heard our users
    // leave, our routes and unread stanzas were moved (offline storage). The sessions end, so their
    // clients log in again and get what was stored for them, rather than live on unreachable.
    this.membership.onReaped = () => {
      if (this.stopped) return;
      this.logger.warn({ sessions: transport.sessionCount }, 'this node was reaped while alive: ending its sessions');
      for (const sid of transport.sids()) transport.session(sid)?.shutdown();
    };
    this.router = router;
    await this.membership.join();
    transport.onSessionStart((session) => {
      this.registry
        .register(session.sid)
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'sid not registered (redis); retried on reconnect'));
    });
    transport.onSessionEnd((session) => {
      this.registry.unregister(session.sid).catch(() => undefined);
    });
    // Entries in this node's journal now are its own from before a restart under the same id (it has no session yet).
    this.ownLeftover = await this.journals.newest(this.options.node);
    this.bus.start((message, claim) => router.receive(message, claim));
    void this.replayOwnJournal(router);
    // After an outage this node may have been reaped: register everything again.
    this.redis.on('ready', () => {
      if (this.stopped) return;
      void this.reregister(transport, router);
    });
    this.reaper = setInterval(() => {
      void this.reapDeadNodes(router, resourceGone);
      void this.replayOwnJournal(router);
    }, this.options.timing.heartbeatMs * 2);
    this.reaper.unref();
  }

  private async reregister(transport: BoshTransport, router: Router): Promise<void> {
    try {
      await this.membership.join();
      for (const sid of transport.sids()) await this.registry.register(sid);
      await router.republish();
      this.logger.info({ sessions: transport.sessionCount }, 're-registered with redis');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 're-registration failed');
    }
  }

  /** Cleans up after nodes whose heartbeat lapsed: sids, routes (contacts told), undelivered stanzas. */
  async reapDeadNodes(router: Router, resourceGone: ResourceGoneHandler): Promise<void> {
    let dead: string[];
    try {
      dead = await this.membership.deadNodes();
    } catch {
      return;
    }
    for (const node of dead) {
      try {
        if (!(await this.membership.lockReap(node))) continue;
        const sids = await this.registry.removeNode(node);
        const routes = await this.routes.removeNode(node);
        for (const { bare, entry } of routes) await resourceGone(bare, entry);
        // Each unread stanza leaves the dead node's stream only once it has been routed again.
        const backlog = await this.bus.drain(node, (message) => this.reroute(router, message));
        // And so does each message it had handed to its own sessions whose clients had not confirmed it.
        const journal = await this.journals.replay(node, (message) => this.reroute(router, message));
        this.logger.warn({ node, sids, routes: routes.length, backlog, journal }, 'reaped a dead node');
        // A sender that saw the node alive a moment ago may still append: drain once more after a TTL.
        const late = setTimeout(() => void this.finishReap(node, router), this.options.timing.ttlMs);
        late.unref();
      } catch (err) {
        this.logger.warn({ node, err: (err as Error).message }, 'reaping failed; will retry');
      }
    }
  }

  private async finishReap(node: string, router: Router): Promise<void> {
    try {
      const late = await this.bus.drain(node, (message) => this.reroute(router, message));
      if (late > 0) this.logger.warn({ node, late }, 'routed again what reached a dead node after it was reaped');
      // Entries of a kind this release does not read: the node stays listed, so it is reaped again
      // (once the lock expires) until a node of a release that reads them drains its stream (or journal).
      const unread = await this.bus.backlog(node);
      // Only the node itself writes its journal: nothing reaches it late, it is removed once empty.
      const journalGone = await this.journals.removeIfEmpty(node);
      if (unread > 0 || !journalGone) {
        this.logger.debug({ node, unread, journalGone }, 'a dead node’s stream or journal keeps messages this release does not read; it stays listed');
        return;
      }
      await this.membership.forget(node);
    } catch (err) {
      // The node stays listed: it is reaped again (idempotent) once the lock expires.
      this.logger.warn({ node, err: (err as Error).message }, 'could not finish reaping');
    }
  }

  /**
   * Routes again what this node's journal kept from before it restarted under the same id (entries up
   * to the newest there at start; later ones are this process's own). Under the node's reap lock, so
   * that a reaper that took the node for dead and is replaying the same journal does not route it a
   * second time: while another holds the lock, it is tried again at the next round of the reaper.
   */
  private async replayOwnJournal(router: Router): Promise<void> {
    const upTo = this.ownLeftover;
    if (upTo === undefined || this.replayingOwn || this.stopped) return;
    this.replayingOwn = true;
    const node = this.options.node;
    try {
      if (!(await this.membership.lockReap(node))) return;
      try {
        const replayed = await this.journals.replay(node, (message) => this.reroute(router, message), upTo);
        this.ownLeftover = undefined;
        this.logger.warn({ replayed }, 'routed again what this node’s journal kept from before it restarted');
      } finally {
        await this.membership.unlockReap(node);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not replay this node’s journal; will retry');
    } finally {
      this.replayingOwn = false;
    }
  }

  /** Stanzas the dead node never delivered (one per recipient of a fan-out): to another resource, offline storage, or an error. */
  private async reroute(router: Router, message: BusMessage): Promise<void> {
    for (const { to, stanza, hops } of busDeliveries(message)) await router.route(stanza, to, hops);
  }

  /**
   * Leaves the cluster (graceful shutdown, after this node's sessions ended): its routes and sids go
   * first, so no new stanza is sent here; stanzas already on their way are still read for a moment,
   * then what is left in this node's stream is routed again (offline storage, or the user's other
   * resources) before the node leaves. Requests this node forwards to other nodes keep going until
   * then; those still held are answered with a recoverable error, and their clients resend them
   * through another node.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reaper) clearInterval(this.reaper);
    try {
      await this.registry.removeNode(this.options.node);
      await this.routes.removeNode(this.options.node);
      // Senders that read our routes just before they went may still be appending.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, this.options.timing.heartbeatMs)));
      await this.bus.stop();
      const router = this.router;
      const left = router ? await this.bus.drain(this.options.node, (message) => this.reroute(router, message)) : 0;
      // What this node's departing sessions sent (presence unavailable) must leave before it does.
      await this.bus.flush();
      // Their clients' confirmations and the routing again at their end settled the journal: its deletions go out now.
      await this.journal?.idle();
      this.journal?.stop();
      // The heartbeat goes, the node stays listed: anything appended to our stream from now on is
      // routed again by the reaper once the heartbeat has been missing for a TTL.
      await this.membership.leave();
      this.logger.info({ rerouted: left }, 'left the cluster');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not deregister cleanly');
    }
    this.forwarder.close();
  }
}
