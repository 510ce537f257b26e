import type { Element } from 'ltx';
import { parseStrictXml, serializeXml } from '../xml';
import { makeJid, parseJid, type Jid } from '../base/jid';
import type { Settled } from '../base/stream';
import type { StreamErrorCondition } from '../base/stream-error';
import type { Resource, ResourceState } from './resource';
import type { BusMessage, ClusterLink, RouteEntry } from './route-table';

/** What happens to a stanza the bus could not carry to a resource's node: routed again. */
export type DeliveryFailure = (stanza: Element, to: Jid, hops: number) => void;

/** A resource bound on another node: its state from the route table, reached over the bus. */
class RemoteResource implements Resource {
  private presenceElement: Element | undefined;

  constructor(
    readonly jid: Jid,
    private readonly entry: RouteEntry,
    private readonly cluster: ClusterLink,
    private readonly hops: number,
    private readonly onFailure: DeliveryFailure,
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

  deliver(stanza: Element, settled?: Settled): void {
    // On the bus the stanza is the reading node's to keep until its client has it: this copy is settled once handed over.
    void this.handOver(stanza).then(() => settled?.());
  }

  handOver(stanza: Element): Promise<void> {
    const message: BusMessage = { kind: 'deliver', to: this.jid.full, stanza: serializeXml(stanza), hops: this.hops + 1 };
    const { bus } = this.cluster;
    const { taken, done } = bus.handOver ? bus.handOver(this.entry.node, message) : { taken: undefined, done: bus.send(this.entry.node, message) };
    const routed = done.catch(() => this.onFailure(stanza, this.jid, this.hops + 1));
    return taken ?? routed;
  }
}

/** The cluster's route table as this node sees it: the resources bound on other nodes, and this node's entries in it. */
export class RemoteResources {
  constructor(
    private readonly cluster: ClusterLink,
    private readonly onFailure: DeliveryFailure,
  ) {}

  /** A user's resources bound on other nodes; a stanza sent to them has travelled `hops` times already. */
  async of(bare: string, hops: number): Promise<Resource[]> {
    const jid = parseJid(bare);
    if (!jid) return [];
    const { cluster } = this;
    return (await cluster.routes.resources(bare))
      .filter((entry) => entry.node !== cluster.node)
      .map((entry) => new RemoteResource(makeJid(jid.local, jid.domain, entry.resource), entry, cluster, hops, this.onFailure));
  }

  /** RFC 6120 §7.7.2.2: the session of this resource on another node, if any, is asked to close. */
  async replaceElsewhere(bare: string, resource: string): Promise<void> {
    const elsewhere = (await this.cluster.routes.resources(bare)).find((entry) => entry.resource === resource && entry.node !== this.cluster.node);
    if (elsewhere) await this.cluster.bus.send(elsewhere.node, { kind: 'replace', bare, resource }).catch(() => undefined);
  }

  /** Asks the node holding a session of the user to end it with a stream error. */
  async end(node: string, bare: string, resource: string, ending: { readonly condition: StreamErrorCondition; readonly text: string }): Promise<void> {
    await this.cluster.bus.send(node, { kind: 'end', bare, resource, condition: ending.condition, text: ending.text });
  }

  /** Writes this node's entry for a local resource. */
  async publish(bare: string, resource: string, state: ResourceState): Promise<void> {
    await this.cluster.routes.put(bare, {
      resource,
      node: this.cluster.node,
      available: state.available,
      priority: state.priority,
      interested: state.interested,
      carbons: state.carbons,
      presence: state.lastPresence && serializeXml(state.lastPresence),
    });
  }

  /** Removes this node's entry for a resource (a newer binding on another node stays). */
  remove(bare: string, resource: string): Promise<void> {
    return this.cluster.routes.remove(bare, resource, this.cluster.node);
  }
}
