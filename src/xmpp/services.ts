import type { ComponentRegistry } from '../components';
import type { GatewayEventHub } from '../events';
import type { AuthThrottle } from '../limits/auth-throttle';
import type { Logger } from '../observability/logger';
import type { ResourceConflictPolicy } from '../base/resource-conflict';
import type { Router } from '../routing/router';
import type { AccountStore } from '../store/account-store';
import type { IqRouting } from './iq-handlers';
import type { LoginTokenCheck } from './sasl/login-token';
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
  /** Elements waiting in the mailbox while a step is async; beyond it they are refused (see SessionActor). */
  readonly maxInboxStanzas: number;
  /** The login deadline: a stream with no bound resource after this long is closed (0: none). */
  readonly loginTimeoutMs: number;
}

/** Time as the actor sees it: injected, so deadlines are tested with a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
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
  /** Login tokens SASL PLAIN accepts in place of a password (the business API's); none without the API. */
  readonly loginTokens?: LoginTokenCheck;
  readonly scramIterations: number;
  readonly resourceConflict: ResourceConflictPolicy;
  readonly limits: SessionLimits;
  readonly logger: Logger;
  readonly observer: XmppObserver;
  /** Log stanzas (with their content) at debug level. */
  readonly logStanzas: boolean;
  /** Work started by ending sessions (presence broadcasts, re-routing), awaited at shutdown. */
  readonly departures: Set<Promise<void>>;
  readonly timers: Timers;
  /** Where sessions report starting and ending (and the router, presence and rosters their events). */
  readonly events: GatewayEventHub;
  /** Services on subdomains: a stanza to one of their domains is routed, not refused as remote. */
  readonly components: ComponentRegistry;
  /**
   * Whether the stores are reachable (cluster mode: Redis). A step that fails while they are not is
   * an outage, answered with a `wait` error; one that fails while they are is a fault (a bug).
   */
  storesReady(): boolean;
}
