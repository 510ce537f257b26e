import type { Element } from 'ltx';
import type { Logger } from '../observability/logger';
import type { AccountStore } from '../store/account-store';
import { parseStrictXml, serializeXml } from '../xml';
import { makeJid, parseJid, type Jid } from '../xmpp/jid';
import { errorReply, StanzaError } from '../xmpp/stanza-error';
import { decideDelivery, type StanzaKind } from './delivery-rules';
import type { LocalResource, Resource } from './resource';
import type { BusMessage, ClusterLink, RouteEntry } from './route-table';

export type { LocalResource, Resource } from './resource';

/** RFC 6120 §7.7.2.2: what happens when a client binds a resource already in use. */
export type ResourceConflictPolicy = 'replace' | 'override' | 'refuse';

/**
 * Where a message goes when no resource can take it (offline storage): 'stored', 'ignored' (not worth
 * keeping, RFC 6121 §8.5.2.2.1) or 'full' (the sender hears service-unavailable).
 */
export type OfflineHandler = (stanza: Element, to: Jid) => Promise<'stored' | 'ignored' | 'full'>;

/** Told of every message delivered to a user's resources (for XEP-0280 carbons). */
export type DeliveredHandler = (message: Element, to: Jid, recipients: readonly Resource[], all: readonly Resource[]) => void;

// A stanza forwarded between nodes more often than this is stored or bounced instead (stale routes).
const MAX_HOPS = 2;

/** A resource bound on another node: its state from the route table, reached over the bus. */
class RemoteResource implements Resource {
  private presenceElement: Element | undefined;

  constructor(
    readonly jid: Jid,
    private readonly entry: RouteEntry,
    private readonly cluster: ClusterLink,
    private readonly hops: number,
    private readonly onFailure: (stanza: Element, to: Jid, hops: number) => void,
  ) {}

  get resource(): string {
    return this.entry.resource;
  }
  get node(): string {
    return this.entry.node;
  }
  get available(): boolean {
    return this.entry.available;
  }
  get priority(): number {
    return this.entry.priority;
  }
  get interested(): boolean {
    return this.entry.interested;
  }
  get carbons(): boolean {
    return this.entry.carbons;
  }
  get lastPresence(): Element | undefined {
    if (!this.presenceElement && this.entry.presence) this.presenceElement = parseStrictXml(this.entry.presence);
    return this.presenceElement;
  }

  deliver(stanza: Element): void {
    const message: BusMessage = { kind: 'deliver', to: this.jid.full, stanza: serializeXml(stanza), hops: this.hops + 1 };
    this.cluster.bus.send(this.entry.node, message).catch(() => this.onFailure(stanza, this.jid, this.hops + 1));
  }
}

/**
 * Routes stanzas to the resources of this domain's users, on this node or (in a cluster) on others.
 * Every stanza ends delivered, stored, answered with an error to its sender, or dropped where
 * RFC 6121 says so: never lost without a rule.
 */
export class Router {
  private readonly users = new Map<string, Map<string, LocalResource>>();
  private offline: OfflineHandler | undefined;
  private delivered: DeliveredHandler | undefined;
  private bound = 0;

  constructor(
    readonly domain: string,
    private readonly accounts: AccountStore,
    private readonly cluster?: ClusterLink,
    private readonly logger?: Logger,
  ) {}

  get node(): string {
    return this.cluster?.node ?? 'local';
  }

  /** Resources bound on this node. */
  get boundCount(): number {
    return this.bound;
  }

  setOfflineHandler(handler: OfflineHandler): void {
    this.offline = handler;
  }

  onMessageDelivered(handler: DeliveredHandler): void {
    this.delivered = handler;
  }

  /** This node's resources of a user. */
  localResourcesOf(bare: string): LocalResource[] {
    const resources = this.users.get(bare);
    return resources ? [...resources.values()] : [];
  }

  /** Every resource of a user in the cluster. */
  async resourcesOf(bare: string, hops = 0): Promise<Resource[]> {
    const local = this.localResourcesOf(bare);
    if (!this.cluster) return local;
    const cluster = this.cluster;
    const jid = parseJid(bare);
    if (!jid) return local;
    const remote = (await cluster.routes.resources(bare))
      .filter((entry) => entry.node !== cluster.node)
      .map((entry) => new RemoteResource(makeJid(jid.local, jid.domain, entry.resource), entry, cluster, hops, (s, to, h) => this.fallback(s, to, h)));
    return [...local, ...remote];
  }

  find(bare: string, resource: string): LocalResource | undefined {
    return this.users.get(bare)?.get(resource);
  }

  /** Binds a resource on this node; an older session of the same resource anywhere is replaced. */
  async bind(resource: LocalResource): Promise<void> {
    let resources = this.users.get(resource.jid.bare);
    if (!resources) {
      resources = new Map();
      this.users.set(resource.jid.bare, resources);
    }
    const previous = resources.get(resource.resource);
    resources.set(resource.resource, resource);
    if (previous) previous.replaced();
    else this.bound++;
    if (!this.cluster) return;
    const elsewhere = (await this.cluster.routes.resources(resource.jid.bare)).find(
      (entry) => entry.resource === resource.resource && entry.node !== this.cluster?.node,
    );
    if (elsewhere) await this.cluster.bus.send(elsewhere.node, { kind: 'replace', bare: resource.jid.bare, resource: resource.resource }).catch(() => undefined);
    await this.publish(resource);
  }

  unbind(resource: LocalResource): void {
    const resources = this.users.get(resource.jid.bare);
    if (!resources || resources.get(resource.resource) !== resource) return;
    resources.delete(resource.resource);
    this.bound--;
    if (resources.size === 0) this.users.delete(resource.jid.bare);
    this.cluster?.routes.remove(resource.jid.bare, resource.resource, this.cluster.node).catch((err: unknown) => {
      this.logger?.warn({ err }, 'could not remove a route');
    });
  }

  /** A local resource's state changed (availability, priority, presence, interest, carbons). */
  async changed(resource: LocalResource): Promise<void> {
    if (this.cluster && this.find(resource.jid.bare, resource.resource) === resource) await this.publish(resource);
  }

  /** Every local route, again (after Redis came back). */
  async republish(): Promise<void> {
    for (const resources of this.users.values()) {
      for (const resource of resources.values()) await this.publish(resource);
    }
  }

  private async publish(resource: LocalResource): Promise<void> {
    if (!this.cluster) return;
    await this.cluster.routes.put(resource.jid.bare, {
      resource: resource.resource,
      node: this.cluster.node,
      available: resource.available,
      priority: resource.priority,
      interested: resource.interested,
      carbons: resource.carbons,
      presence: resource.lastPresence && serializeXml(resource.lastPresence),
    });
  }

  /** Routes a stanza whose `to` names a user of this domain; `from` is already stamped. */
  async route(stanza: Element, to: Jid, hops = 0): Promise<void> {
    const kind = stanza.name as StanzaKind;
    const resources = await this.resourcesOf(to.bare, hops);
    // Past the hop limit remote routes are not trusted: only this node's resources count.
    const usable = hops >= MAX_HOPS ? resources.filter((r) => r.node === this.node) : resources;
    const exists = usable.length > 0 || (await this.accounts.exists(to.local));
    const decision = decideDelivery(kind, stanza.attrs.type, to.resource, exists, usable);
    switch (decision.kind) {
      case 'deliver':
        for (const resource of decision.to) resource.deliver(stanza);
        if (kind === 'message') this.delivered?.(stanza, to, decision.to, usable);
        return;
      case 'offline': {
        const outcome = this.offline ? await this.offline(stanza, to) : 'full';
        if (outcome === 'full') {
          // XEP-0160 §3 / RFC 6121 §8.5.2.2: the sender learns the message was not kept.
          this.bounce(stanza, new StanzaError('service-unavailable', this.offline ? 'offline storage is full' : 'the recipient is not online'));
        }
        return;
      }
      case 'account':
        this.bounce(stanza, new StanzaError('service-unavailable'));
        return;
      case 'bounce':
        this.bounce(stanza, new StanzaError(decision.condition));
        return;
      case 'drop':
        return;
    }
  }

  /** A message from the bus for a resource of this node. */
  async receive(message: BusMessage): Promise<void> {
    if (message.kind === 'replace') {
      this.find(message.bare, message.resource)?.replaced();
      return;
    }
    const to = parseJid(message.to);
    if (!to) return;
    const stanza = parseStrictXml(message.stanza);
    const resource = this.find(to.bare, to.resource);
    if (resource) resource.deliver(stanza);
    else await this.fallback(stanza, to, message.hops);
  }

  /** The resource a stanza was sent to is gone: route it again (another resource, offline, or an error). */
  private async fallback(stanza: Element, to: Jid, hops: number): Promise<void> {
    try {
      await this.route(stanza, to, Math.max(hops, MAX_HOPS));
    } catch (err) {
      this.logger?.warn({ err }, 'could not re-route a stanza');
    }
  }

  /** RFC 6120 §8.3: an error back to the stanza's sender. */
  bounce(stanza: Element, error: StanzaError): void {
    const reply = errorReply(stanza, error);
    const to = reply ? parseJid(String(reply.attrs.to ?? '')) : undefined;
    if (!reply || !to || to.local === '' || to.domain !== this.domain) return;
    // Only to a full JID: an error never goes to offline storage or to several resources.
    if (to.resource === '') return;
    void this.route(reply, to).catch(() => undefined);
  }
}
