import type { Element } from 'ltx';
import type { Component, ComponentRegistry } from '../components';
import type { GatewayEventHub } from '../events';
import type { Logger } from '../observability/logger';
import type { AccountStore } from '../store/account-store';
import type { Jid } from '../base/jid';
import { errorReply, StanzaError } from '../base/stanza-error';
import type { StreamErrorCondition } from '../base/stream-error';
import { bounceAddress } from './bounce-address';
import { busDeliveries } from './bus-deliveries';
import { componentOutlet } from './component-outlet';
import { decideDelivery, type StanzaKind } from './delivery-rules';
import { MAX_HOPS, usableResources } from './hop-limit';
import { LocalResources, type ResourceChange } from './local-resources';
import { bothSettled, journalDelivery } from './message-journal';
import { RemoteResources } from './remote-resources';
import type { LocalResource, Resource, ResourceState, SettleClaim } from './resource';
import type { BusMessage, ClusterLink } from './route-table';
import { stanzaFacts } from './stanza-facts';

export type { LocalResource, Resource, ResourceState } from './resource';
export type { ResourceChange } from './local-resources';

/**
 * Where a message goes when no resource can take it (offline storage): 'stored', 'ignored' (not worth
 * keeping, RFC 6121 §8.5.2.2.1) or 'full' (the sender hears service-unavailable).
 */
export type OfflineHandler = (stanza: Element, to: Jid) => Promise<'stored' | 'ignored' | 'full'>;

/**
 * What became of a routed stanza: handed to resources (here or over the bus), kept offline, not
 * worth keeping (RFC 6121 §8.5.2.2.1), answered with an error to its sender, dropped where RFC 6121
 * says so, or given to a component.
 */
export type RouteOutcome = 'delivered' | 'stored' | 'ignored' | 'bounced' | 'dropped' | 'handled';

/** How a session is ended from outside (the API): an RFC 6120 §4.9.3 condition and a text. */
export interface SessionEnding {
  readonly condition: StreamErrorCondition;
  readonly text: string;
}

/** Told of every message delivered to a user's resources (for XEP-0280 carbons). */
export type DeliveredHandler = (message: Element, to: Jid, recipients: readonly Resource[], all: readonly Resource[]) => void;

/**
 * XEP-0313: archives a message about to be delivered to a user or kept offline, and may stamp it
 * (XEP-0359 stanza-id) before it goes; it decides itself what is archived, and once.
 */
export type ArchiveHandler = (message: Element, to: Jid) => Promise<void>;

/**
 * What the router works with besides the resources. The first two are part of delivery, called in
 * line and relied on (a message is kept, carbons go out); the events are for observers, after the fact.
 */
export interface RouterSeams {
  /** XEP-0160: decides whether a message no resource can take is kept; without it the sender hears an error. */
  readonly offline?: OfflineHandler;
  /** XEP-0280: told of each message delivered, to copy it to the user's other resources. */
  readonly delivered?: DeliveredHandler;
  /** messageRouted, messageStored, messageBounced. */
  readonly events?: GatewayEventHub;
  /** Services on subdomains: stanzas addressed to their domains go to them. */
  readonly components?: ComponentRegistry;
  /** XEP-0313: messages into the users' archives, before delivery so the live copy carries its archive id. */
  readonly archive?: ArchiveHandler;
}

/**
 * Routes stanzas to the resources of this domain's users, on this node or (in a cluster) on others.
 * Every stanza ends delivered, stored, answered with an error to its sender, or dropped where
 * RFC 6121 says so: never lost without a rule. The router owns the routing state of this node's
 * resources: it changes only through `bind`, `unbind` and `update`.
 */
export class Router {
  /** This node's name in the cluster ('local' when it runs alone). */
  readonly node: string;
  private readonly local: LocalResources;
  private readonly remote: RemoteResources | undefined;

  constructor(
    readonly domain: string,
    private readonly accounts: AccountStore,
    private readonly cluster?: ClusterLink,
    private readonly logger?: Logger,
    private readonly seams: RouterSeams = {},
  ) {
    this.node = cluster?.node ?? 'local';
    this.local = new LocalResources(this.node);
    this.remote = cluster && new RemoteResources(cluster, (stanza, to, hops) => void this.fallback(stanza, to, hops));
  }

  /** Resources bound on this node. */
  get boundCount(): number {
    return this.local.count;
  }

  /** Users with a resource bound on this node. */
  get userCount(): number {
    return this.local.userCount;
  }

  /** The way out for a component: its stanzas are routed like a user's (see component-outlet.ts). */
  outletFor(component: Component): ReturnType<typeof componentOutlet> {
    return componentOutlet(this, component);
  }

  /** Every resource of a user in the cluster. */
  async resourcesOf(bare: string, hops = 0): Promise<Resource[]> {
    const local = this.local.of(bare);
    if (!this.remote) return local;
    return [...local, ...(await this.remote.of(bare, hops))];
  }

  /** The session bound to a resource on this node. */
  find(bare: string, resource: string): LocalResource | undefined {
    return this.local.find(bare, resource);
  }

  /** A local session's routing state (kept after it ends, for its last presence broadcast). */
  stateOf(session: LocalResource): ResourceState {
    return this.local.state(session);
  }

  /** Binds a resource on this node; an older session of the same resource anywhere is replaced. */
  async bind(session: LocalResource): Promise<void> {
    this.local.add(session)?.replaced();
    if (!this.remote) return;
    await this.remote.replaceElsewhere(session.jid.bare, session.resource);
    await this.publish(session);
  }

  unbind(session: LocalResource): void {
    if (!this.local.remove(session)) return;
    this.remote?.remove(session.jid.bare, session.resource).catch((err: unknown) => {
      this.logger?.warn({ err }, 'could not remove a route');
    });
  }

  /** Changes a local session's state (availability, priority, presence, interest, carbons); the cluster hears of it while it is bound. */
  async update(session: LocalResource, change: ResourceChange): Promise<void> {
    this.local.change(session, change);
    if (this.remote && this.local.isBound(session)) await this.publish(session);
  }

  /** Every local route, again (after Redis came back). */
  async republish(): Promise<void> {
    for (const session of this.local.all()) await this.publish(session);
  }

  private async publish(session: LocalResource): Promise<void> {
    await this.remote?.publish(session.jid.bare, session.resource, this.local.state(session));
  }

  /**
   * Routes a stanza whose `to` names a user of this domain or a component; `from` is already stamped.
   * `claim`, when given, is asked for a callback for each copy handed to a session of this node (see
   * SettleClaim): whoever routes a stanza it must keep until a client has it (a bus entry, a stored
   * offline message) learns when that is. A copy handed to the bus is settled by the node that reads it.
   */
  async route(stanza: Element, to: Jid, hops = 0, claim?: SettleClaim): Promise<RouteOutcome> {
    if (to.domain !== this.domain) {
      await this.toComponent(stanza, to);
      return 'handled';
    }
    const kind = stanza.name as StanzaKind;
    const usable = usableResources(await this.resourcesOf(to.bare, hops), hops, this.node);
    const exists = usable.length > 0 || (await this.accounts.exists(to.local));
    const decision = decideDelivery(kind, stanza.attrs.type, to.resource, exists, usable);
    if (kind === 'message' && (decision.kind === 'deliver' || decision.kind === 'offline')) await this.seams.archive?.(stanza, to);
    switch (decision.kind) {
      case 'deliver':
        if (kind === 'message') this.routedEvent(stanza, to, decision.to);
        await this.handOver(stanza, to, hops, decision.to, claim);
        if (kind === 'message') this.seams.delivered?.(stanza, to, decision.to, usable);
        return 'delivered';
      case 'offline': {
        const { offline, events } = this.seams;
        const outcome = offline ? await offline(stanza, to) : 'full';
        if (outcome === 'stored') events?.emit('messageStored', () => stanzaFacts(stanza, to, this.node));
        if (outcome === 'full') {
          // XEP-0160 §3 / RFC 6121 §8.5.2.2: the sender learns the message was not kept.
          this.bounce(stanza, new StanzaError('service-unavailable', offline ? 'offline storage is full' : 'the recipient is not online'), to);
          return 'bounced';
        }
        return outcome;
      }
      case 'account':
        this.bounce(stanza, new StanzaError('service-unavailable'), to);
        return 'bounced';
      case 'bounce':
        this.bounce(stanza, new StanzaError(decision.condition), to);
        return 'bounced';
      case 'drop':
        return 'dropped';
    }
  }

  /**
   * Delivers to each resource; resolves once those on other nodes have it on the bus (see
   * Resource.handOver) and, in a cluster, once a message for sessions of this node is in its journal
   * (see MessageJournal), so the request that carried it is answered only then. The sessions get it at
   * once, without waiting for Redis: when Redis cannot take the entry, they get it all the same.
   */
  private async handOver(stanza: Element, to: Jid, hops: number, resources: readonly Resource[], claim?: SettleClaim): Promise<void> {
    const handing: Array<Promise<void>> = [];
    const toLocalSession = resources.some((resource) => !resource.handOver);
    const journaled = journalDelivery(this.cluster?.journal, stanza, to, hops, toLocalSession, claim !== undefined);
    for (const resource of resources) {
      if (resource.handOver) handing.push(resource.handOver(stanza));
      else resource.deliver(stanza, bothSettled(claim?.(), journaled?.claim()));
    }
    if (journaled) {
      journaled.release();
      handing.push(journaled.written);
    }
    await Promise.all(handing);
  }

  /**
   * Ends a user's sessions (or the one of `resource`) wherever they are: on this node at once, on
   * another node through the bus to its owner. Returns how many there were.
   */
  async endSessions(bare: string, ending: SessionEnding, resource?: string): Promise<number> {
    const targets = (await this.resourcesOf(bare)).filter((r) => resource === undefined || r.resource === resource);
    for (const target of targets) {
      if (target.node === this.node) this.find(bare, target.resource)?.closeWith(ending.condition, ending.text);
      else await this.remote?.end(target.node, bare, target.resource, ending);
    }
    return targets.length;
  }

  /**
   * A message from the bus for a resource of this node. `claim` (the bus's) is asked for a callback
   * for each copy handed to a session, so the bus entry stays until every copy is settled.
   */
  async receive(message: BusMessage, claim?: SettleClaim): Promise<void> {
    if (message.kind === 'replace') {
      this.find(message.bare, message.resource)?.replaced();
      return;
    }
    if (message.kind === 'end') {
      this.find(message.bare, message.resource)?.closeWith(message.condition, message.text);
      return;
    }
    // 'deliver' and 'fanout': each recipient in order; one whose session is gone, routed again.
    for (const { to, stanza, hops } of busDeliveries(message)) {
      const resource = this.find(to.bare, to.resource);
      if (resource) resource.deliver(stanza, claim?.());
      else await this.fallback(stanza, to, hops);
    }
  }

  /** The resource a stanza was sent to is gone: route it again (another resource, offline, or an error). */
  private async fallback(stanza: Element, to: Jid, hops: number): Promise<void> {
    try {
      await this.route(stanza, to, Math.max(hops, MAX_HOPS));
    } catch (err) {
      // RFC 6120 §8.3: rather than vanish, the stanza goes back to its sender as an error.
      this.logger?.warn({ err }, 'could not re-route a stanza; its sender gets an error');
      this.bounce(stanza, new StanzaError('internal-server-error'), to);
    }
  }

  /**
   * A stanza for a component's domain, handled on this node (every node registers the same
   * components). The component's StanzaError is the answer to the sender; any other failure is the
   * component's fault, answered internal-server-error. A domain with no component (no federation
   * here) is dropped: the session refused such addresses before routing.
   */
  private async toComponent(stanza: Element, to: Jid): Promise<void> {
    const component = this.seams.components?.find(to.domain);
    if (!component) {
      this.logger?.debug({ to: to.domain }, 'dropped a stanza for a domain this node does not serve');
      return;
    }
    if (stanza.name === 'message') this.routedEvent(stanza, to, []);
    try {
      await component.handle(stanza);
    } catch (err) {
      if (err instanceof StanzaError) return this.bounce(stanza, err, to);
      this.logger?.error({ err, component: component.domain }, 'a component failed to handle a stanza');
      this.bounce(stanza, new StanzaError('internal-server-error'), to);
    }
  }

  private routedEvent(stanza: Element, to: Jid, recipients: readonly Resource[]): void {
    this.seams.events?.emit('messageRouted', () => ({
      ...stanzaFacts(stanza, to, this.node),
      // A component is its own recipient.
      recipients: recipients.length > 0 ? recipients.map((r) => r.jid.full) : [to.full],
      remote: recipients.some((r) => r.node !== this.node),
    }));
  }

  /** RFC 6120 §8.3: an error back to the stanza's sender (`to`: where the stanza was going, for events). */
  bounce(stanza: Element, error: StanzaError, to?: Jid): void {
    const reply = errorReply(stanza, error);
    const sender = reply && bounceAddress(reply, this.domain, (domain) => this.seams.components?.find(domain) !== undefined);
    if (!reply || !sender) return;
    if (stanza.name === 'message' && to) {
      this.seams.events?.emit('messageBounced', () => ({ ...stanzaFacts(stanza, to, this.node), condition: error.condition }));
    }
    void this.route(reply, sender).catch(() => undefined);
  }
}
