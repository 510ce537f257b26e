import type { AuthThrottle } from '../limits/auth-throttle';
import type { Logger } from '../observability/logger';
import type { ResourceConflictPolicy, Router } from '../routing/router';
import type { AccountStore } from '../store/account-store';
import type { IqRouting } from './iq-handlers';
import type { XmppObserver } from './observer';
import type { OfflineService } from './offline/offline-service';
import type { PresenceService } from './presence/presence-service';
import type { RosterService } from './roster/roster-service';

export interface SessionLimits {
  /** Failed SASL attempts on one stream before it is closed. */
  readonly maxAuthFailures: number;
  /** Resources one account may have bound at once (RFC 6120 §7.6.2.1 resource-constraint). */
  readonly maxSessionsPerAccount: number;
  /** Sustained stanzas per second one session may send, and the burst above it. */
  readonly stanzasPerSecond: number;
  readonly stanzaBurst: number;
}

/** Everything a session actor works with: the domain's shared services. */
export interface XmppServices {
  readonly domain: string;
  readonly accounts: AccountStore;
  readonly router: Router;
  readonly rosters: RosterService;
  readonly presence: PresenceService;
  readonly offline: OfflineService;
  readonly iq: IqRouting;
  readonly authThrottle: AuthThrottle;
  readonly scramIterations: number;
  readonly resourceConflict: ResourceConflictPolicy;
  readonly limits: SessionLimits;
  readonly logger: Logger;
  readonly observer: XmppObserver;
  /** Log stanzas (with their content) at debug level. */
  readonly logStanzas: boolean;
  /** Work started by ending sessions (presence broadcasts, re-routing), awaited at shutdown. */
  readonly departures: Set<Promise<void>>;
}
