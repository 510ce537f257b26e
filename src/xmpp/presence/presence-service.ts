import { Element } from 'ltx';
import type { GatewayEventHub } from '../../events';
import type { LocalResource, Resource, Router } from '../../routing/router';
import type { AccountStore } from '../../store/account-store';
import { makeJid, parseJid, type Jid } from '../../base/jid';
import { NS_CLIENT } from '../../base/namespaces';
import type { OfflineService } from '../offline/offline-service';
import type { RosterService } from '../roster/roster-service';
import type { RosterItem } from '../../store/roster-store';
import { cloneElement, parseStrictXml } from '../../xml';
import { inbound, isSubscriptionType, outbound, type SubscriptionType } from './subscription-rules';

/**
 * RFC 6121 §3 and §4: subscriptions and presence for the users of this domain. Decisions come from
 * subscription-rules; this class reads and writes the roster and sends the resulting stanzas.
 */
export class PresenceService {
  /** Full JIDs each session sent directed presence to, which must hear 'unavailable' (RFC 6121 §4.6.3). */
  private readonly directedTo = new WeakMap<LocalResource, Set<string>>();

  constructor(
    private readonly domain: string,
    private readonly router: Router,
    private readonly rosters: RosterService,
    private readonly offline: OfflineService,
    private readonly accounts: AccountStore,
    /** presenceChanged, for observers. */
    private readonly events?: GatewayEventHub,
  ) {}

  /** RFC 6121 §2.5.2: the user removed a contact from the roster; the subscriptions are cancelled both ways. */
  async contactRemoved(user: string, contact: string, item: RosterItem): Promise<void> {
    const userJid = makeJid(user, this.domain);
    const contactJid = parseJid(contact);
    if (!contactJid) return;
    const hasTo = item.subscription === 'to' || item.subscription === 'both' || item.ask;
    const hasFrom = item.subscription === 'from' || item.subscription === 'both';
    if (hasTo) await this.deliverSubscription(contactJid, userJid, 'unsubscribe', presence(userJid.bare, contactJid.bare, 'unsubscribe'));
    if (hasFrom) {
      await this.deliverSubscription(contactJid, userJid, 'unsubscribed', presence(userJid.bare, contactJid.bare, 'unsubscribed'));
      await this.sendUnavailableTo(userJid.bare, contactJid.bare);
    }
  }

  /** A presence stanza from one of this domain's sessions (`from` already stamped). */
  async fromClient(session: LocalResource, stanza: Element): Promise<void> {
    const type = stanza.attrs.type as string | undefined;
    const toText = stanza.attrs.to as string | undefined;
    if (isSubscriptionType(type)) {
      const to = toText === undefined ? undefined : parseJid(toText);
      if (!to || to.local === '' || to.bare === session.jid.bare) return;
      return this.subscriptionFromUser(session.jid, makeJid(to.local, to.domain), type, stanza);
    }
    // §4.3: probes are the server's business; a client's probe is ignored.
    if (type === 'probe') return;
    if (toText !== undefined && parseJid(toText)?.bare !== session.jid.bare) return this.directedPresence(session, stanza, toText);
    if (type === undefined) return this.available(session, stanza);
    if (type === 'unavailable') return this.unavailable(session, stanza);
    // type='error' broadcast: meaningless, dropped.
  }

  /** RFC 6121 §4.6: presence to one entity; remembered so that entity hears 'unavailable' later. */
  private async directedPresence(session: LocalResource, stanza: Element, toText: string): Promise<void> {
    const to = parseJid(toText);
    if (!to) return;
    if (stanza.attrs.type === 'unavailable') this.directedTo.get(session)?.delete(to.full);
    else if (stanza.attrs.type === undefined && this.router.stateOf(session).available) {
      const item = await this.rosters.contactState(session.jid.local, to.bare);
      if (item.subscription !== 'from' && item.subscription !== 'both') this.directed(session).add(to.full);
    }
    await this.router.route(stanza, to);
  }

  /** RFC 6121 §4.2 (initial) and §4.4 (subsequent) available presence. */
  private async available(session: LocalResource, stanza: Element): Promise<void> {
    const state = this.router.stateOf(session);
    const initial = !state.available;
    const priority = Number(stanza.getChildText('priority') ?? 0);
    stanza.attrs.from = session.jid.full;
    const change = { priority: Number.isInteger(priority) && priority >= -128 && priority <= 127 ? priority : 0, available: true, lastPresence: stanza };
    await this.router.update(session, change);
    this.changed(session.jid.full, stanza, change.priority);

    const roster = await this.rosters.roster(session.jid.local);
    for (const item of roster.items) {
      if (item.subscription === 'from' || item.subscription === 'both') await this.sendTo(stanza, item.jid);
    }
    const own = await this.ownResources(session);
    for (const other of own) {
      if (other.available) other.deliver(addressed(stanza, other.jid.full));
    }
    if (!initial) return;
    // §4.2.2: the new resource learns the presence of its contacts (a probe answered locally) …
    for (const item of roster.items) {
      if (item.subscription !== 'to' && item.subscription !== 'both') continue;
      for (const contact of await this.router.resourcesOf(item.jid)) {
        if (contact.available && contact.lastPresence) session.deliver(addressed(contact.lastPresence, session.jid.full));
      }
    }
    // … and of the user's other resources.
    for (const other of own) {
      if (other.available && other.lastPresence) session.deliver(addressed(other.lastPresence, session.jid.full));
    }
    // RFC 6121 §3.1.3: subscription requests that waited are delivered again.
    for (const pending of await this.rosters.pendingIn(session.jid.local)) {
      session.deliver(addressed(parseStrictXml(pending.stanza), session.jid.bare));
    }
    // XEP-0160: stored messages go to the first available resource with a non-negative priority.
    if (state.priority >= 0) await this.offline.deliverStored(session);
  }

  /** RFC 6121 §4.5: unavailable goes to the contacts, the other resources and directed recipients. */
  private async unavailable(session: LocalResource, stanza: Element): Promise<void> {
    const wasAvailable = this.router.stateOf(session).available;
    if (!wasAvailable && this.directed(session).size === 0) return;
    stanza.attrs.from = session.jid.full;
    await this.router.update(session, { available: false, lastPresence: undefined });
    if (wasAvailable) this.changed(session.jid.full, undefined, 0);
    await this.broadcastUnavailable(session, stanza);
  }

  /**
   * A resource vanished with its node (cluster reaper): its contacts and the user's other resources
   * hear 'unavailable' from it, as if the session had ended here (RFC 6121 §4.5.4).
   */
  async resourceGone(bare: string, resource: string, wasAvailable: boolean): Promise<void> {
    const user = parseJid(bare);
    if (!user || !wasAvailable) return;
    const stanza = new Element('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: `${bare}/${resource}` });
    this.changed(`${bare}/${resource}`, undefined, 0);
    const roster = await this.rosters.roster(user.local);
    for (const item of roster.items) {
      if (item.subscription === 'from' || item.subscription === 'both') await this.sendTo(stanza, item.jid);
    }
    for (const other of await this.router.resourcesOf(bare)) {
      if (other.available) other.deliver(addressed(stanza, other.jid.full));
    }
  }

  /** The session ended without saying goodbye: its contacts are told it is gone (RFC 6121 §4.5.4). */
  async sessionEnded(session: LocalResource): Promise<void> {
    const wasAvailable = this.router.stateOf(session).available;
    if (!wasAvailable && this.directed(session).size === 0) return;
    await this.router.update(session, { available: false, lastPresence: undefined });
    if (wasAvailable) this.changed(session.jid.full, undefined, 0);
    await this.broadcastUnavailable(session, new Element('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: session.jid.full }));
  }

  /** A full JID's broadcast presence changed: `available` is its new presence, undefined when it left. */
  private changed(jid: string, available: Element | undefined, priority: number): void {
    this.events?.emit('presenceChanged', () => ({
      node: this.router.node,
      at: new Date(),
      jid,
      available: available !== undefined,
      // RFC 6121 §4.7.2.1, §4.7.2.2: absent when not given.
      show: available?.getChildText('show') ?? undefined,
      status: available?.getChildText('status') ?? undefined,
      priority,
    }));
  }

  private async broadcastUnavailable(session: LocalResource, stanza: Element): Promise<void> {
    const roster = await this.rosters.roster(session.jid.local);
    const told = new Set<string>();
    for (const item of roster.items) {
      if (item.subscription === 'from' || item.subscription === 'both') {
        await this.sendTo(stanza, item.jid);
        told.add(item.jid);
      }
    }
    const directed = this.directed(session);
    for (const full of directed) {
      const to = parseJid(full);
      if (to && !told.has(to.bare)) await this.router.route(addressed(stanza, full), to);
    }
    directed.clear();
    for (const other of await this.ownResources(session)) {
      if (other.available) other.deliver(addressed(stanza, other.jid.full));
    }
  }

  /** RFC 6121 §3, the user's server: the user sent a subscription stanza to a contact. */
  private async subscriptionFromUser(user: Jid, contact: Jid, type: SubscriptionType, stanza: Element): Promise<void> {
    const state = await this.rosters.contactState(user.local, contact.bare);
    const result = outbound(type, state);
    if (result.next) await this.rosters.applyState(user.local, contact.bare, state, result.next);
    if (result.pass) {
      // §3.1.2: subscription stanzas carry the user's bare JID.
      const forwarded = addressed(stanza, contact.bare);
      forwarded.attrs.from = user.bare;
      await this.deliverSubscription(contact, user, type, forwarded);
    }
    if (result.sendPresence) await this.sendPresenceTo(user.bare, contact.bare);
    if (result.sendUnavailable) await this.sendUnavailableTo(user.bare, contact.bare);
  }

  /** RFC 6121 §3, the contact's server: a subscription stanza reaches one of our users. */
  private async deliverSubscription(user: Jid, contact: Jid, type: SubscriptionType, stanza: Element): Promise<void> {
    if (user.domain !== this.domain) return;
    if (!(await this.accounts.exists(user.local))) {
      // §3.1.3: a request to an account that does not exist is answered 'unsubscribed'.
      if (type === 'subscribe') await this.deliverSubscription(contact, user, 'unsubscribed', presence(user.bare, contact.bare, 'unsubscribed'));
      return;
    }
    const state = await this.rosters.contactState(user.local, contact.bare);
    const result = inbound(type, state);
    if (result.next) await this.rosters.applyState(user.local, contact.bare, state, result.next, stanza);
    if (result.pass) await this.router.route(stanza, makeJid(user.local, user.domain));
    if (result.autoSubscribed) await this.deliverSubscription(contact, user, 'subscribed', presence(user.bare, contact.bare, 'subscribed'));
    if (result.sendPresence) await this.sendPresenceTo(user.bare, contact.bare);
    if (result.sendUnavailable) await this.sendUnavailableTo(user.bare, contact.bare);
  }

  /** The user's current available presences, to every available resource of the contact. */
  private async sendPresenceTo(userBare: string, contactBare: string): Promise<void> {
    for (const resource of await this.router.resourcesOf(userBare)) {
      const last = resource.lastPresence;
      if (resource.available && last) await this.sendTo(last, contactBare);
    }
  }

  private async sendUnavailableTo(userBare: string, contactBare: string): Promise<void> {
    for (const resource of await this.router.resourcesOf(userBare)) {
      if (resource.available) await this.sendTo(new Element('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: resource.jid.full }), contactBare);
    }
  }

  /** Presence from a user to a contact's bare JID: every available resource of theirs (RFC 6121 §8.5.2.1.1). */
  private async sendTo(stanza: Element, contactBare: string): Promise<void> {
    for (const resource of await this.router.resourcesOf(contactBare)) {
      if (resource.available) resource.deliver(addressed(stanza, resource.jid.full));
    }
  }

  private async ownResources(session: LocalResource): Promise<Resource[]> {
    return (await this.router.resourcesOf(session.jid.bare)).filter((r) => r.resource !== session.resource);
  }

  private directed(session: LocalResource): Set<string> {
    let directed = this.directedTo.get(session);
    if (!directed) {
      directed = new Set();
      this.directedTo.set(session, directed);
    }
    return directed;
  }
}

function presence(from: string, to: string, type: string): Element {
  return new Element('presence', { xmlns: NS_CLIENT, from, to, type });
}

/** A copy of a stanza with its own `to`, so one element can go to many recipients. */
function addressed(stanza: Element, to: string): Element {
  const copy = cloneElement(stanza);
  copy.attrs.to = to;
  return copy;
}
