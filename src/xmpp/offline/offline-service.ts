import { Element } from 'ltx';
import type { Logger } from '../../observability/logger';
import type { OfflineMessage, OfflineStore } from '../../store/offline-store';
import { parseStrictXml, serializeXml, XmlDepthError, XmlSyntaxError } from '../../xml';
import type { LocalResource, Resource, SettleClaim } from '../../routing/resource';
import { worthKeepingOffline } from '../../routing/worth-keeping';
import { LeasedHandOvers } from './leased-hand-overs';

export const NS_DELAY = 'urn:xmpp:delay';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_OFFLINE = 'msgoffline';
/** XEP-0023 message expiration. */
export const NS_EXPIRE = 'jabber:x:expire';
/** How long stored messages handed to a session stay hidden from another login, by default (OFFLINE_LEASE_SECONDS). */
export const DEFAULT_OFFLINE_LEASE_MS = 300_000;

/**
 * XEP-0160: messages for a user with no available resource are kept (bounded per user) and handed
 * over, stamped with XEP-0203 delay, at the next initial presence. They are handed over under a
 * lease and deleted only once the client has them (LeasedHandOvers): a node that dies, or a client
 * that never confirms, leaves them stored for a later login, at least once rather than at most once.
 */
export class OfflineService {
  private readonly handOvers: LeasedHandOvers;

  constructor(
    private readonly store: OfflineStore,
    private readonly domain: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** How long a lease hides handed-over messages from another login (see OfflineStore.lease). */
    private readonly leaseMs = DEFAULT_OFFLINE_LEASE_MS,
  ) {
    this.handOvers = new LeasedHandOvers(store, logger);
  }

  /**
   * Whether the message is worth keeping: normal or chat with a body or a store hint (XEP-0334);
   * chat states and receipts alone are not, nor anything marked no-store.
   */
  static storable(message: Element): boolean {
    // The rule lives in routing/, where the cluster's journal uses it too.
    return worthKeepingOffline(message);
  }

  /**
   * Keeps a message for `user`. Returns 'stored', 'ignored' (not worth keeping, RFC 6121 §8.5.2.2.1
   * lets the server drop it) or 'full' (the sender must hear service-unavailable, XEP-0160 §3).
   */
  async keep(user: string, message: Element): Promise<'stored' | 'ignored' | 'full'> {
    // A copy handed over at login coming back unconfirmed (its session ended): the stored original
    // is handed over again instead, the same stanza with its first delay stamp, not a second copy.
    if (await this.handOvers.giveBack(user, message)) return 'stored';
    if (!OfflineService.storable(message)) return 'ignored';
    const stored = await this.store.push(user, { stanza: serializeXml(message), storedAt: new Date() });
    if (!stored) this.logger.info({ user }, 'offline storage full');
    return stored ? 'stored' : 'full';
  }

  /** Hands a user's stored messages to the session that just became available; each is deleted once its client has it. */
  async deliverStored(session: LocalResource): Promise<void> {
    const user = session.jid.local;
    for (const message of await this.store.lease(user, this.leaseMs)) {
      const stanza = this.stamped(user, message);
      if (!stanza) {
        this.handOvers.delete(user, message.id);
        continue;
      }
      // The same path as a bus entry's: the session's transport settles it when the client confirms.
      const receipt = this.handOvers.receipt(user, message.id, stanza);
      session.deliver(stanza, receipt.claim());
      receipt.release();
    }
  }

  /**
   * A message kept while the user's resource was becoming available may land after that resource
   * took its stored messages (routing saw no available resource; the login's hand-over ran before the
   * write): when a resource that takes stored messages is available now, what is stored and not
   * leased is leased and routed to it. `route` passes `claim` on to the sessions it delivers to
   * (Router.route), so each message is deleted only once a client has it.
   */
  async handOverLate(
    user: string,
    resources: () => Promise<readonly Resource[]>,
    route: (stanza: Element, claim: SettleClaim) => Promise<unknown>,
  ): Promise<void> {
    if (this.handingOver.has(user)) return;
    const ready = (await resources()).some((r) => r.available && r.priority >= 0);
    if (!ready) return;
    this.handingOver.add(user);
    try {
      const leased = await this.store.lease(user, this.leaseMs);
      for (const [index, message] of leased.entries()) {
        const stanza = this.stamped(user, message);
        if (!stanza) {
          this.handOvers.delete(user, message.id);
          continue;
        }
        const receipt = this.handOvers.receipt(user, message.id, stanza);
        try {
          await route(stanza, receipt.claim);
        } catch (err) {
          // Not routed: this message and the rest go back to the next login rather than wait out the lease.
          await this.handOvers.giveBack(user, stanza);
          await this.store.release(
            user,
            leased.slice(index + 1).map((m) => m.id),
          );
          throw err;
        } finally {
          receipt.release();
        }
      }
    } finally {
      this.handingOver.delete(user);
    }
  }

  /** Resolves once what was settled so far is deleted from storage (before the stores close). */
  idle(): Promise<void> {
    return this.handOvers.idle();
  }

  private readonly handingOver = new Set<string>();

  /** A stored message as it is handed over, with its XEP-0203 stamp; undefined when it is not to be delivered. */
  private stamped(user: string, message: OfflineMessage): Element | undefined {
    let stanza: Element;
    try {
      stanza = parseStrictXml(message.stanza);
    } catch (err) {
      // Kept by an older version that relayed characters XML forbids: delivering it would break
      // the client's stream at every login, so it is dropped (deleted from storage by the caller).
      if (!(err instanceof XmlSyntaxError || err instanceof XmlDepthError)) throw err;
      this.logger.warn({ user, reason: err.message }, 'dropped a stored message that is not well-formed');
      return undefined;
    }
    if (this.expired(stanza, message.storedAt)) return undefined;
    // XEP-0203: when and where the message was held.
    stanza.cnode(
      new Element('delay', { xmlns: NS_DELAY, from: this.domain, stamp: message.storedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') }).t('Offline Storage'),
    );
    return stanza;
  }

  /**
   * XEP-0023 §3: a stored message whose `seconds` have passed since it was kept is dropped, not
   * delivered; one still valid goes out with the seconds it has left.
   */
  private expired(stanza: Element, storedAt: Date): boolean {
    const expire = stanza.getChild('x', NS_EXPIRE);
    const seconds = Number(expire?.attrs.seconds);
    if (!expire || !Number.isFinite(seconds)) return false;
    const left = seconds - Math.floor((this.now() - storedAt.getTime()) / 1000);
    if (left <= 0) return true;
    expire.attrs.seconds = String(left);
    return false;
  }

  count(user: string): Promise<number> {
    return this.store.count(user);
  }
}
