import type { AccountStore } from './account-store';
import type { OfflineStore } from './offline-store';
import type { RosterStore } from './roster-store';
import type { XmlStore } from './xml-store';

/** Every store that keeps something of an account. */
export interface AccountData {
  readonly accounts: AccountStore;
  readonly rosters: RosterStore;
  readonly offline: OfflineStore;
  readonly documents: XmlStore;
  /** The user's message archive (XEP-0313), where there is one. */
  readonly archive?: { deleteUser(username: string): Promise<void> };
  /** The user's affiliations in rooms (XEP-0045), where there are rooms. */
  readonly rooms?: { deleteUser(username: string): Promise<void> };
}

/**
 * Removes an account completely: its credentials, then its roster, pending subscription requests,
 * offline messages, documents (vCard, private XML) and message archive, so a new account of the same name starts
 * empty. Whatever deletes an account (the account management API) calls this, never
 * `AccountStore.delete` alone. A store added later for per-user data (archives, say) is cleared here.
 *
 * The credentials go first: from then on no login starts on any node, and the router bounces a message
 * to the name instead of storing it offline (RFC 6121 §8.5.1, no such user), so nothing new arrives
 * while the rest goes. A session still open with the account may write until it ends: the caller ends
 * those sessions, and calling this again afterwards clears whatever they wrote meanwhile.
 *
 * The data is cleared even when there were no credentials: a removal cut short (a store unreachable
 * half-way) is finished by calling it again. An account of USERS / USERS_FILE is refused (AccountError
 * 'read-only') before anything is touched.
 *
 * Only the account's own data goes. Other users' roster items pointing at it stay, as on an XMPP server
 * whose contacts may live on other servers: for them it becomes a subscription to a JID that no longer
 * exists, which they remove themselves. Those items still carry their subscription state, so a new
 * account of the same name would get the presence of contacts listing it as 'from' or 'both' and be
 * seen by those listing it as 'to' or 'both', until either side removes the item. A caller that wants
 * them cancelled tells each contact in the roster, before calling this, what removing the item would
 * (RFC 6121 §2.5.2: unsubscribe and unsubscribed — PresenceService.contactRemoved).
 *
 * Returns whether there were credentials to remove.
 */
export async function removeAccount(stores: AccountData, username: string): Promise<boolean> {
  const existed = await stores.accounts.delete(username);
  await Promise.all([
    stores.rosters.deleteUser(username),
    stores.offline.deleteUser(username),
    stores.documents.deleteUser(username),
    stores.archive?.deleteUser(username),
    stores.rooms?.deleteUser(username),
  ]);
  return existed;
}
