import type { Element } from 'ltx';
import { makeJid, type Jid } from '../base/jid';
import type { Logger } from '../observability/logger';
import type { RouteOutcome, Router } from '../routing/router';
import type { AccountStore } from '../store/account-store';
import type { PushStatusValue } from './schemas';

export interface PushResult {
  readonly to: string;
  readonly status: PushStatusValue;
  readonly reason?: string;
  /** To a group: the message's sequence number in the group and its archive id. */
  readonly seq?: number;
  readonly archive_id?: string;
}

/** How the router's outcome reads to the application that pushed. */
function statusOf(to: Jid, outcome: RouteOutcome): PushResult {
  switch (outcome) {
    case 'delivered':
      return { to: to.full, status: 'delivered' };
    case 'stored':
      return { to: to.full, status: 'stored' };
    case 'ignored':
    case 'dropped':
      return { to: to.full, status: 'offline' };
    case 'bounced':
      // RFC 6121 §8.5: no such resource, or offline storage full (XEP-0160 §3).
      return { to: to.full, status: 'failed', reason: to.resource ? 'no such resource, or offline storage is full' : 'offline storage is full' };
    case 'handled':
      return { to: to.full, status: 'failed', reason: 'not a user' };
  }
}

/**
 * Sends pushes through the router, exactly as a user's message goes (any node, held requests
 * answered at once, offline storage), and reads each recipient's outcome.
 */
export class PushDelivery {
  constructor(
    private readonly router: Router,
    private readonly accounts: AccountStore,
    private readonly logger: Logger,
  ) {}

  /** A chat, normal or headline message: `build(to)` makes the stanza for one recipient. */
  async message(to: Jid, build: (to: Jid) => Element): Promise<PushResult> {
    return this.attempt(to, async () => statusOf(to, await this.router.route(build(to), to)));
  }

  /**
   * A control message: live as a headline, which RFC 6121 §8.5.2.1.1 hands to every available
   * resource; when none is available and `store` is set, as a normal message with a store hint for
   * offline storage (XEP-0160), which keeps normal and chat messages only.
   */
  async control(to: Jid, live: (to: Jid) => Element, stored: ((to: Jid) => Element) | undefined): Promise<PushResult> {
    return this.attempt(to, async () => {
      const outcome = await this.router.route(live(to), to);
      if (outcome !== 'dropped' || !stored) return statusOf(to, outcome);
      // Stored for the user, not for a resource that may never come back.
      const bare = makeJid(to.local, to.domain);
      return { ...statusOf(bare, await this.router.route(stored(bare), bare)), to: to.full };
    });
  }

  private async attempt(to: Jid, send: () => Promise<PushResult>): Promise<PushResult> {
    try {
      if (!(await this.accounts.exists(to.local))) return { to: to.full, status: 'unknown-user' };
      return await send();
    } catch (err) {
      this.logger.warn({ err, to: to.bare }, 'a push could not be routed');
      return { to: to.full, status: 'failed', reason: 'routing failed; try again' };
    }
  }
}
