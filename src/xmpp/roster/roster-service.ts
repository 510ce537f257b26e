import { Element } from 'ltx';
import type { GatewayEventHub } from '../../events';
import { cloneElement, serializeXml } from '../../xml';
import type { Router } from '../../routing/router';
import type { Roster, RosterItem, RosterStore } from '../../store/roster-store';
import { iqResult, type IqContext, type IqRouting } from '../iq-handlers';
import { parseJid } from '../../base/jid';
import { NS_CLIENT } from '../../base/namespaces';
import { NO_CONTACT, type ContactState } from './contact-state';
import { StanzaError } from '../../base/stanza-error';

export const NS_ROSTER = 'jabber:iq:roster';
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';

const MAX_NAME_LENGTH = 1024;
const MAX_GROUPS = 64;

/** What the roster service works with besides its store and the router. */
export interface RosterSeams {
  /**
   * RFC 6121 §2.5.2: removing an item also cancels both subscriptions, which the presence logic does.
   * Part of the removal: awaited, so its failure (a store down) is the roster set's failure.
   */
  readonly contactRemoved: (user: string, contact: string, item: RosterItem) => Promise<void>;
  /** rosterChanged, for observers. */
  readonly events?: GatewayEventHub;
}

/** RFC 6121 §2: rosters, the contact state they hold, and roster pushes. */
export class RosterService {
  constructor(
    private readonly store: RosterStore,
    private readonly router: Router,
    private readonly domain: string,
    /** Items one roster may hold; a new contact beyond it is refused with policy-violation. */
    private readonly maxItems: number,
    private readonly seams: RosterSeams,
  ) {}

  register(iq: IqRouting): void {
    iq.account.on('get', 'query', NS_ROSTER, (request, payload, context) => this.get(request, payload, context));
    iq.account.on('set', 'query', NS_ROSTER, (request, payload, context) => this.set(request, payload, context));
  }

  roster(user: string): Promise<Roster> {
    return this.store.roster(user);
  }

  async contactState(user: string, contact: string): Promise<ContactState> {
    const [item, pending] = await Promise.all([this.store.item(user, contact), this.store.pendingIn(user)]);
    const pendingIn = pending.some((p) => p.from === contact);
    if (!item) return { ...NO_CONTACT, pendingIn };
    return { exists: true, subscription: item.subscription, ask: item.ask, approved: item.approved, pendingIn };
  }

  /** Stores a new contact state and pushes the item to the user's interested resources. */
  async applyState(user: string, contact: string, previous: ContactState, next: ContactState, pendingStanza?: Element): Promise<void> {
    if (next.pendingIn && !previous.pendingIn && pendingStanza) {
      await this.store.addPendingIn(user, { from: contact, stanza: serializeXml(pendingStanza) });
    } else if (!next.pendingIn && previous.pendingIn) {
      await this.store.removePendingIn(user, contact);
    }
    const itemChanged =
      next.exists && (!previous.exists || next.subscription !== previous.subscription || next.ask !== previous.ask || next.approved !== previous.approved);
    if (!itemChanged) return;
    const existing = await this.store.item(user, contact);
    // Thrown deep, rendered once: the stanza that would add the contact is answered with this error.
    if (!existing) await this.checkRoom(user);
    const item: RosterItem = {
      jid: contact,
      name: existing?.name,
      groups: existing?.groups ?? [],
      subscription: next.subscription,
      ask: next.ask,
      approved: next.approved,
    };
    const version = await this.store.setItem(user, item);
    this.changed(user, contact, item, version);
    await this.push(user, itemElement(item), version);
  }

  pendingIn(user: string): ReturnType<RosterStore['pendingIn']> {
    return this.store.pendingIn(user);
  }

  /** RFC 6121 §2.1.6: a roster push to every interested resource of the user. */
  async push(user: string, item: Element, version: number): Promise<void> {
    for (const resource of await this.router.resourcesOf(`${user}@${this.domain}`)) {
      if (!resource.interested) continue;
      const push = new Element('iq', { xmlns: NS_CLIENT, type: 'set', id: `push${Math.random().toString(36).slice(2, 10)}`, to: resource.jid.full });
      push.c('query', { xmlns: NS_ROSTER, ver: String(version) }).cnode(cloneElement(item));
      resource.deliver(push);
    }
  }

  /** RFC 6121 §2.2 roster get, with §2.6 versioning. */
  private async get(request: Element, payload: Element, context: IqContext): Promise<Element | StanzaError> {
    if (context.target.bare !== context.from.bare) return new StanzaError('forbidden', 'only your own roster');
    const session = this.router.find(context.from.bare, context.from.resource);
    if (session && !this.router.stateOf(session).interested) await this.router.update(session, { interested: true });
    const roster = await this.store.roster(context.from.local);
    const result = iqResult(request);
    const clientVersion = payload.attrs.ver as string | undefined;
    // §2.6.3: the client's copy is current: an empty result, changes come as pushes.
    if (clientVersion !== undefined && clientVersion === String(roster.version)) return result;
    const query = result.c('query', { xmlns: NS_ROSTER });
    if (clientVersion !== undefined) query.attrs.ver = String(roster.version);
    for (const item of roster.items) query.cnode(itemElement(item));
    return result;
  }

  /** RFC 6121 §2.3 (add or update) and §2.5 (remove). */
  private async set(request: Element, payload: Element, context: IqContext): Promise<Element | StanzaError> {
    if (context.target.bare !== context.from.bare) return new StanzaError('forbidden', 'only your own roster');
    const items = payload.getChildren('item');
    if (items.length !== 1) return new StanzaError('bad-request', 'exactly one item per roster set');
    const element = items[0] as Element;
    const jid = parseJid(String(element.attrs.jid ?? ''));
    if (!jid || jid.resource !== '') return new StanzaError('bad-request', 'the item needs a bare JID');
    const user = context.from.local;
    if (element.attrs.subscription === 'remove') return this.remove(request, user, jid.bare);

    const name = element.attrs.name as string | undefined;
    if (name !== undefined && name.length > MAX_NAME_LENGTH) return new StanzaError('not-acceptable', 'name too long');
    const groups = element.getChildren('group').map((g) => g.getText());
    if (groups.some((g) => g === '')) return new StanzaError('not-acceptable', 'empty group name');
    if (new Set(groups).size !== groups.length) return new StanzaError('bad-request', 'duplicate group');
    if (groups.length > MAX_GROUPS) return new StanzaError('not-acceptable', 'too many groups');

    const existing = await this.store.item(user, jid.bare);
    if (!existing) await this.checkRoom(user);
    // §2.3.3: the client sets name and groups only; subscription state stays the server's.
    const item: RosterItem = {
      jid: jid.bare,
      name: name === '' ? undefined : name,
      groups,
      subscription: existing?.subscription ?? 'none',
      ask: existing?.ask ?? false,
      approved: existing?.approved ?? false,
    };
    const version = await this.store.setItem(user, item);
    this.changed(user, jid.bare, item, version);
    await this.push(user, itemElement(item), version);
    return iqResult(request);
  }

  /** A new contact fits only while the roster is under its limit (docs/security.md). */
  private async checkRoom(user: string): Promise<void> {
    if ((await this.store.size(user)) >= this.maxItems) {
      throw new StanzaError('policy-violation', `a roster may hold at most ${this.maxItems} contacts`);
    }
  }

  private async remove(request: Element, user: string, contact: string): Promise<Element | StanzaError> {
    const existing = await this.store.item(user, contact);
    if (!existing) return new StanzaError('item-not-found');
    const version = await this.store.removeItem(user, contact);
    this.changed(user, contact, undefined, version);
    await this.push(user, new Element('item', { jid: contact, subscription: 'remove' }), version);
    // Awaited: a failure (a store down) is this iq's failure, answered to the client, never left unhandled.
    await this.seams.contactRemoved(user, contact, existing);
    return iqResult(request);
  }

  /** An item was stored or removed: observers hear of it, as the user's resources do by a push. */
  private changed(user: string, contact: string, item: RosterItem | undefined, version: number): void {
    this.seams.events?.emit('rosterChanged', () => ({
      node: this.router.node,
      at: new Date(),
      user: `${user}@${this.domain}`,
      contact,
      item: item && { jid: item.jid, name: item.name, groups: [...item.groups], subscription: item.subscription, ask: item.ask, approved: item.approved },
      version,
    }));
  }
}

/** RFC 6121 §2.1.2: a roster item as sent to clients. */
function itemElement(item: RosterItem): Element {
  const element = new Element('item', { jid: item.jid, subscription: item.subscription });
  if (item.name !== undefined) element.attrs.name = item.name;
  if (item.ask) element.attrs.ask = 'subscribe';
  if (item.approved) element.attrs.approved = 'true';
  for (const group of item.groups) element.c('group').t(group);
  return element;
}
