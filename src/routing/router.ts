import type { Element } from 'ltx';
import type { AccountStore } from '../store/account-store';
import type { Jid } from '../xmpp/jid';
import { errorReply, StanzaError } from '../xmpp/stanza-error';
import { decideDelivery, type StanzaKind } from './delivery-rules';

/** A bound resource on this node, as the router sees it. */
export interface LocalResource {
  readonly jid: Jid;
  readonly resource: string;
  readonly available: boolean;
  readonly priority: number;
  deliver(stanza: Element): void;
  /** Another session bound the same resource and replaced this one (RFC 6120 §7.7.2.2). */
  replaced(): void;
}

/** RFC 6120 §7.7.2.2: what happens when a client binds a resource already in use. */
export type ResourceConflictPolicy = 'replace' | 'override' | 'refuse';

/**
 * Where a message goes when no resource can take it (offline storage): 'stored', 'ignored' (not worth
 * keeping, RFC 6121 §8.5.2.2.1) or 'full' (the sender hears service-unavailable).
 */
export type OfflineHandler = (stanza: Element, to: Jid) => Promise<'stored' | 'ignored' | 'full'>;

/** Told of every message delivered to a user's resources (for XEP-0280 carbons). */
export type DeliveredHandler = (message: Element, to: Jid, recipients: readonly LocalResource[]) => void;

/**
 * Routes stanzas between the sessions of this node. Every stanza ends delivered, stored, answered
 * with an error to its sender, or dropped where RFC 6121 says so: never lost without a rule.
 */
export class Router {
  private readonly users = new Map<string, Map<string, LocalResource>>();
  private offline: OfflineHandler | undefined;
  private delivered: DeliveredHandler | undefined;
  private bound = 0;

  constructor(
    readonly domain: string,
    private readonly accounts: AccountStore,
  ) {}

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

  resourcesOf(bare: string): LocalResource[] {
    const resources = this.users.get(bare);
    return resources ? [...resources.values()] : [];
  }

  find(bare: string, resource: string): LocalResource | undefined {
    return this.users.get(bare)?.get(resource);
  }

  /** Binds a resource; the caller has settled any conflict first. */
  bind(resource: LocalResource): void {
    let resources = this.users.get(resource.jid.bare);
    if (!resources) {
      resources = new Map();
      this.users.set(resource.jid.bare, resources);
    }
    const previous = resources.get(resource.resource);
    resources.set(resource.resource, resource);
    if (previous) previous.replaced();
    else this.bound++;
  }

  unbind(resource: LocalResource): void {
    const resources = this.users.get(resource.jid.bare);
    if (!resources || resources.get(resource.resource) !== resource) return;
    resources.delete(resource.resource);
    this.bound--;
    if (resources.size === 0) this.users.delete(resource.jid.bare);
  }

  /** Routes a stanza whose `to` names a user of this domain; `from` is already stamped. */
  async route(stanza: Element, to: Jid): Promise<void> {
    const kind = stanza.name as StanzaKind;
    const resources = this.resourcesOf(to.bare);
    const exists = resources.length > 0 || (await this.accounts.exists(to.local));
    const decision = decideDelivery(kind, stanza.attrs.type, to.resource, exists, resources);
    switch (decision.kind) {
      case 'deliver':
        for (const resource of decision.to) resource.deliver(stanza);
        if (kind === 'message') this.delivered?.(stanza, to, decision.to);
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

  /** RFC 6120 §8.3: an error back to the stanza's sender, when that sender is on this node. */
  bounce(stanza: Element, error: StanzaError): void {
    const reply = errorReply(stanza, error);
    const to = reply?.attrs.to as string | undefined;
    if (!reply || !to) return;
    const slash = to.indexOf('/');
    const sender = slash < 0 ? undefined : this.find(to.slice(0, slash), to.slice(slash + 1));
    sender?.deliver(reply);
  }
}
