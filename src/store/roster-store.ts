/** RFC 6121 §2.1.2.5: the subscription state of a roster item. */
export type Subscription = 'none' | 'to' | 'from' | 'both';

/** One contact in a user's roster (RFC 6121 §2.1). */
export interface RosterItem {
  /** The contact's bare JID. */
  readonly jid: string;
  readonly name?: string;
  readonly subscription: Subscription;
  /** RFC 6121 §2.1.2.2: the user asked for the contact's presence and is waiting ("Pending Out"). */
  readonly ask: boolean;
  /** RFC 6121 §3.4: the user pre-approved a subscription request from the contact. */
  readonly approved: boolean;
  readonly groups: readonly string[];
}

export interface Roster {
  /** RFC 6121 §2.6: increases with every change. */
  readonly version: number;
  readonly items: readonly RosterItem[];
}

/** A subscription request waiting for the user's answer ("Pending In", RFC 6121 §3.1.3). */
export interface PendingSubscription {
  readonly from: string;
  /** The <presence type='subscribe'/> as received, serialised. */
  readonly stanza: string;
}

/** Rosters and pending inbound subscription requests, per user (the localpart). */
export interface RosterStore {
  roster(user: string): Promise<Roster>;
  item(user: string, contact: string): Promise<RosterItem | undefined>;
  /** How many items the user's roster holds. */
  size(user: string): Promise<number>;
  /** Adds or replaces an item; returns the new roster version. */
  setItem(user: string, item: RosterItem): Promise<number>;
  /** Removes an item; returns the new roster version (unchanged if there was none). */
  removeItem(user: string, contact: string): Promise<number>;
  pendingIn(user: string): Promise<readonly PendingSubscription[]>;
  addPendingIn(user: string, subscription: PendingSubscription): Promise<void>;
  removePendingIn(user: string, from: string): Promise<boolean>;
  /**
   * Removes the user's whole roster and pending requests (the account is being removed). The version
   * goes on counting from where it was, one past the last: a client that cached the old account's
   * roster sends that version, and it must not match an empty roster, nor a new account's roster
   * that happened to reach the same number (RFC 6121 §2.6). A user with no roster is left untouched.
   */
  deleteUser(user: string): Promise<void>;
}

interface UserRoster {
  version: number;
  items: Map<string, RosterItem>;
  pendingIn: Map<string, PendingSubscription>;
}

export class MemoryRosterStore implements RosterStore {
  private readonly users = new Map<string, UserRoster>();

  private of(user: string): UserRoster {
    let roster = this.users.get(user);
    if (!roster) {
      roster = { version: 0, items: new Map(), pendingIn: new Map() };
      this.users.set(user, roster);
    }
    return roster;
  }

  async roster(user: string): Promise<Roster> {
    const roster = this.users.get(user);
    return roster ? { version: roster.version, items: [...roster.items.values()] } : { version: 0, items: [] };
  }

  async item(user: string, contact: string): Promise<RosterItem | undefined> {
    return this.users.get(user)?.items.get(contact);
  }

  async size(user: string): Promise<number> {
    return this.users.get(user)?.items.size ?? 0;
  }

  async setItem(user: string, item: RosterItem): Promise<number> {
    const roster = this.of(user);
    roster.items.set(item.jid, item);
    return ++roster.version;
  }

  async removeItem(user: string, contact: string): Promise<number> {
    const roster = this.of(user);
    if (roster.items.delete(contact)) roster.version++;
    return roster.version;
  }

  async pendingIn(user: string): Promise<readonly PendingSubscription[]> {
    return [...(this.users.get(user)?.pendingIn.values() ?? [])];
  }

  async addPendingIn(user: string, subscription: PendingSubscription): Promise<void> {
    this.of(user).pendingIn.set(subscription.from, subscription);
  }

  async removePendingIn(user: string, from: string): Promise<boolean> {
    return this.users.get(user)?.pendingIn.delete(from) ?? false;
  }

  async deleteUser(user: string): Promise<void> {
    const roster = this.users.get(user);
    if (!roster) return;
    if (roster.version === 0) this.users.delete(user);
    else this.users.set(user, { version: roster.version + 1, items: new Map(), pendingIn: new Map() });
  }
}
