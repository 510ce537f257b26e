import type { Logger } from '../observability/logger';
import { AuthThrottle } from '../limits/auth-throttle';
import type { ResourceConflictPolicy } from '../base/resource-conflict';
import { Router } from '../routing/router';
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
  /** Per-account bounds (private XML, vCard, roster); defaults a real user never reaches. */
  readonly accountLimits?: AccountLimits;
  readonly logger: Logger;
  readonly observer: XmppObserver;
  readonly logStanzas?: boolean;
  /** Timers for session deadlines (default: the process's, unref'd). */
  readonly timers?: Timers;
  /** Whether the stores are reachable (default: always; cluster mode asks Redis). */
  readonly storesReady?: () => boolean;
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
  /** Resolves when every ended session has finished telling its contacts. */
  settle(): Promise<void>;
}

/** Wires one XMPP domain: router, roster, presence, offline storage and the iq modules. */
export function createXmppDomain(stores: DomainStores, options: DomainOptions): XmppDomain {
  const { domain, logger } = options;
  const router = new Router(domain, stores.accounts, options.cluster, logger);
  const accountLimits = options.accountLimits ?? DEFAULT_ACCOUNT_LIMITS;
  const rosters = new RosterService(stores.rosters, router, domain, accountLimits.rosterItems);
  const offline = new OfflineService(stores.offline, domain, logger);
  const presence = new PresenceService(domain, router, rosters, offline, stores.accounts);
  router.setOfflineHandler((stanza, to) => offline.keep(to.local, stanza));
  // XEP-0280: a message delivered to some of a user's resources is copied to the others.
  router.onMessageDelivered((message, to, recipients, all) => {
    // Detached from the sender's handling: a failure here is logged, never left unhandled.
    sendCarbons(router, 'received', message, to.bare, recipients, all).catch((err: unknown) => logger.error({ err, to: to.bare }, 'carbon copies failed'));
  });

  const iq = createIqRouting();
  registerCore(iq);
  rosters.register(iq);
  registerDisco(iq, stores.accounts);
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
    scramIterations: options.scramIterations,
    resourceConflict: options.resourceConflict,
    limits: options.limits,
    logger,
    observer: options.observer,
    logStanzas: options.logStanzas ?? false,
    departures: new Set(),
    timers: options.timers ?? processTimers,
    storesReady: options.storesReady ?? (() => true),
  };
  return {
    services,
    openStream: (output, info) => new SessionActor(output, info, services),
    settle: async () => {
      while (services.departures.size > 0) await Promise.allSettled([...services.departures]);
    },
  };
}
