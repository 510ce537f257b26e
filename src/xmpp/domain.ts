import type { Logger } from '../observability/logger';
import { ComponentRegistry } from '../components';
import { EventHub, type GatewayEventHub } from '../events';
import type { AuthThrottle } from '../limits/auth-throttle';
import type { ResourceConflictPolicy } from '../base/resource-conflict';
import { makeJid } from '../base/jid';
import { Router, type ArchiveHandler } from '../routing/router';
import type { ClusterLink } from '../routing/route-table';
import type { AccountStore } from '../store/account-store';
import type { OfflineStore } from '../store/offline-store';
import type { RosterStore } from '../store/roster-store';
import type { XmlStore } from '../store/xml-store';
import { registerCarbons, sendCarbons } from './carbons';
import { createIqRouting } from './iq-handlers';
import { registerCore } from './modules/core';
import { registerDisco } from './modules/disco';
import { registerPrivateStorage } from './modules/private-storage';
import { registerVersionAndTime } from './modules/software-version';
import { registerVCard } from './modules/vcard';
import { DEFAULT_ACCOUNT_LIMITS, type AccountLimits } from './account-limits';
import type { XmppObserver } from './observer';
import { OfflineService } from './offline/offline-service';
import { PresenceService } from './presence/presence-service';
import { NS_ROSTER, RosterService } from './roster/roster-service';
import type { SessionLimits, Timers, XmppServices } from './services';
import { SessionActor } from './session-actor';
import type { StreamOpener } from '../base/stream';
import type { LoginTokenCheck } from './sasl/login-token';

export interface DomainStores {
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly offline: OfflineStore;
  readonly documents: XmlStore;
}

export interface DomainOptions {
  /** The cluster, when this node is one of several. */
  readonly cluster?: ClusterLink;
  readonly domain: string;
  readonly version: string;
  readonly scramIterations: number;
  readonly resourceConflict: ResourceConflictPolicy;
  readonly limits: SessionLimits;
  readonly authThrottle: AuthThrottle;
  /** Login tokens accepted by SASL PLAIN as the password (src/api/login-tokens.ts). */
  readonly loginTokens?: LoginTokenCheck;
  /** Per-account bounds (private XML, vCard, roster); defaults a real user never reaches. */
  readonly accountLimits?: AccountLimits;
  readonly logger: Logger;
  readonly observer: XmppObserver;
  readonly logStanzas?: boolean;
  /** Timers for session deadlines (default: the process's, unref'd). */
  readonly timers?: Timers;
  /** Whether the stores are reachable (default: always; cluster mode asks Redis). */
  readonly storesReady?: () => boolean;
  /** The node's event hub (default: one of the domain's own, logging subscriber failures). */
  readonly events?: GatewayEventHub;
  /** XEP-0313: archives users' chats before delivery (src/archive/chat-archiver.ts); none without it. */
  readonly archive?: ArchiveHandler;
  /** XEP-0160: how long stored messages handed to a session stay hidden from another login until its client confirms them (OFFLINE_LEASE_SECONDS). */
  readonly offlineLeaseMs?: number;
}

const processTimers: Timers = {
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // A session deadline must never keep a stopping process alive.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface XmppDomain {
  readonly services: XmppServices;
  /** Opens the session actor for a new stream (the transport calls it). */
  readonly openStream: StreamOpener;
  /** Resolves when every ended session has finished telling its contacts and routing again what its client never got, and what clients confirmed is deleted from offline storage. */
  settle(): Promise<void>;
  /** What happens on this domain, for archives, webhooks and statistics to subscribe to. */
  readonly events: GatewayEventHub;
  /** Services on subdomains (conference.<domain>); register the same ones on every node. */
  readonly components: ComponentRegistry;
}

/** Wires one XMPP domain: router, roster, presence, offline storage and the iq modules. */
export function createXmppDomain(stores: DomainStores, options: DomainOptions): XmppDomain {
  const { domain, logger } = options;
  const events = options.events ?? new EventHub({ logger });
  const components = new ComponentRegistry(domain, (component) => router.outletFor(component));
  const offline = new OfflineService(stores.offline, domain, logger, Date.now, options.offlineLeaseMs);
  // Offline storage and carbons are part of delivery, called by the router in line; the events are
  // for observers.
  const router: Router = new Router(domain, stores.accounts, options.cluster, logger, {
    offline: async (stanza, to) => {
      const outcome = await offline.keep(to.local, stanza);
      // A resource that became available while this was being kept may have taken its stored messages already.
      if (outcome === 'stored') {
        await offline
          .handOverLate(
            to.local,
            () => router.resourcesOf(to.bare),
            (message, claim) => router.route(message, makeJid(to.local, to.domain), 0, claim),
          )
          .catch((err: unknown) => logger.warn({ err, to: to.bare }, 'could not hand over a message stored during a login'));
      }
      return outcome;
    },
    // XEP-0280: a message delivered to some of a user's resources is copied to the others.
    delivered: (message, to, recipients, all) => {
      // Detached from the sender's handling: a failure here is logged, never left unhandled.
      sendCarbons(router, 'received', message, to.bare, recipients, all).catch((err: unknown) => logger.error({ err, to: to.bare }, 'carbon copies failed'));
    },
    events,
    components,
    ...(options.archive ? { archive: options.archive } : {}),
  });
  const accountLimits = options.accountLimits ?? DEFAULT_ACCOUNT_LIMITS;
  const rosters: RosterService = new RosterService(stores.rosters, router, domain, accountLimits.rosterItems, {
    // RFC 6121 §2.5.2: removing a contact cancels the subscriptions, which is the presence service's part.
    contactRemoved: (user, contact, item) => presence.contactRemoved(user, contact, item),
    events,
  });
  const presence: PresenceService = new PresenceService(domain, router, rosters, offline, stores.accounts, events);

  const iq = createIqRouting();
  registerCore(iq);
  rosters.register(iq);
  registerDisco(iq, stores.accounts, components);
  registerVersionAndTime(iq, options.version);
  registerVCard(iq, stores.documents, stores.accounts, accountLimits.vcardBytes);
  registerPrivateStorage(iq, stores.documents, { maxKeys: accountLimits.privateXmlKeys, maxItemBytes: accountLimits.privateXmlItemBytes });
  registerCarbons(iq, router);
  iq.accountFeatures.add(NS_ROSTER);

  const services: XmppServices = {
    domain,
    accounts: stores.accounts,
    router,
    rosters,
    presence,
    offline,
    iq,
    authThrottle: options.authThrottle,
    loginTokens: options.loginTokens,
    scramIterations: options.scramIterations,
    resourceConflict: options.resourceConflict,
    limits: options.limits,
    logger,
    observer: options.observer,
    logStanzas: options.logStanzas ?? false,
    departures: new Set(),
    timers: options.timers ?? processTimers,
    storesReady: options.storesReady ?? (() => true),
    events,
    components,
  };
  return {
    services,
    openStream: (output, info) => new SessionActor(output, info, services),
    settle: async () => {
      while (services.departures.size > 0) await Promise.allSettled([...services.departures]);
      await offline.idle();
    },
    events,
    components,
  };
}
