import type Redis from 'ioredis';
import type { BoshTransport } from '../bosh';
import type { Logger } from '../observability/logger';
import type { Router } from '../routing/router';
import type { BusMessage, ClusterLink, RouteEntry } from '../routing/route-table';
import { parseStrictXml } from '../xml';
import { parseJid } from '../base/jid';
import { BoshForwarder, DEFAULT_FORWARD_TIMING, type ForwardObserver } from './forwarder';
import type { RedisKeys } from './keys';
import { Membership, type MembershipTiming } from './membership';
import { RedisBus } from './redis-bus';
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
  private reaper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    busReader: Redis,
    keys: RedisKeys,
    private readonly options: ClusterOptions,
    private readonly logger: Logger,
    observer: ForwardObserver,
  ) {
    this.membership = new Membership(redis, keys, options.node, options.internalUrl, options.timing);
    this.routes = new RedisRouteTable(redis, keys);
    this.registry = new SessionRegistry(redis, keys, options.node);
    this.bus = new RedisBus(redis, busReader, keys, options.node, (node) => this.membership.isAlive(node), logger);
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

  /** Joins the cluster and starts serving: bus reading, registry upkeep, reaping. */
  async start(transport: BoshTransport, router: Router, resourceGone: ResourceGoneHandler): Promise<void> {
    await this.membership.join();
    transport.onSessionStart((session) => {
      this.registry
        .register(session.sid)
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'sid not registered (redis); retried on reconnect'));
    });
    transport.onSessionEnd((session) => {
      this.registry.unregister(session.sid).catch(() => undefined);
    });
    this.bus.start((message) => router.receive(message));
    // After an outage this node may have been reaped: register everything again.
    this.redis.on('ready', () => {
      if (this.stopped) return;
      void this.reregister(transport, router);
    });
    this.reaper = setInterval(() => {
      void this.reapDeadNodes(router, resourceGone);
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
        const backlog = await this.bus.drain(node);
        for (const message of backlog) await this.reroute(router, message);
        await this.membership.forget(node);
        this.logger.warn({ node, sids, routes: routes.length, backlog: backlog.length }, 'reaped a dead node');
      } catch (err) {
        this.logger.warn({ node, err: (err as Error).message }, 'reaping failed; will retry');
      }
    }
  }

  /** A stanza the dead node never delivered: to another resource, offline storage, or an error. */
  private async reroute(router: Router, message: BusMessage): Promise<void> {
    if (message.kind !== 'deliver') return;
    const to = parseJid(message.to);
    if (!to) return;
    await router.route(parseStrictXml(message.stanza), to, message.hops);
  }

  /** Leaves the cluster (graceful shutdown): stop beating and reading; forget our sids and routes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reaper) clearInterval(this.reaper);
    this.forwarder.close();
    try {
      // What this node's departing sessions sent (presence unavailable) must leave before it does.
      await this.bus.flush();
      this.bus.stop();
      await this.registry.removeNode(this.options.node);
      await this.routes.removeNode(this.options.node);
      await this.membership.leave();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not deregister cleanly');
    }
  }
}
