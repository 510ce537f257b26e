import type { Element } from 'ltx';
import type { Jid } from '../base/jid';
import type { Settled } from '../base/stream';
import type { LocalResource, Resource, ResourceState } from './resource';

/** A change to a local resource's routing state; what is absent stays. */
export type ResourceChange = Partial<{ -readonly [K in keyof ResourceState]: ResourceState[K] }>;

/** A session of this node with the routing state the registry keeps for it. */
class LocalEntry implements Resource {
  available = false;
  priority = 0;
  lastPresence: Element | undefined = undefined;
  interested = false;
  carbons = false;

  constructor(
    private readonly session: LocalResource,
    readonly node: string,
  ) {}

  get jid(): Jid {
    return this.session.jid;
  }
  get resource(): string {
    return this.session.resource;
  }
  deliver(stanza: Element, settled?: Settled): void {
    this.session.deliver(stanza, settled);
  }
}

/**
 * The resources bound on this node: user → resource → session, and each session's routing state.
 * The state outlives the binding (a replaced or ended session still tells its contacts it left), so
 * it is kept per session, not per entry of the map.
 */
export class LocalResources {
  private readonly users = new Map<string, Map<string, LocalResource>>();
  private readonly states = new WeakMap<LocalResource, LocalEntry>();
  private bound = 0;

  constructor(private readonly node: string) {}

  get count(): number {
    return this.bound;
  }

  /** Users with at least one session bound here. */
  get userCount(): number {
    return this.users.size;
  }

  find(bare: string, resource: string): LocalResource | undefined {
    return this.users.get(bare)?.get(resource);
  }

  isBound(session: LocalResource): boolean {
    return this.find(session.jid.bare, session.resource) === session;
  }

  /** A user's sessions here, as routing sees them. */
  of(bare: string): Resource[] {
    const sessions = this.users.get(bare);
    return sessions ? [...sessions.values()].map((session) => this.entry(session)) : [];
  }

  /** Every session bound here. */
  *all(): Iterable<LocalResource> {
    for (const sessions of this.users.values()) yield* sessions.values();
  }

  /** Binds a session; returns the one it displaces from the same resource, if any. */
  add(session: LocalResource): LocalResource | undefined {
    let sessions = this.users.get(session.jid.bare);
    if (!sessions) {
      sessions = new Map();
      this.users.set(session.jid.bare, sessions);
    }
    const previous = sessions.get(session.resource);
    sessions.set(session.resource, session);
    if (!previous) this.bound++;
    return previous;
  }

  /** Unbinds a session; false when it was not (or no longer) the one bound to its resource. */
  remove(session: LocalResource): boolean {
    const sessions = this.users.get(session.jid.bare);
    if (!sessions || sessions.get(session.resource) !== session) return false;
    sessions.delete(session.resource);
    this.bound--;
    if (sessions.size === 0) this.users.delete(session.jid.bare);
    return true;
  }

  state(session: LocalResource): Resource {
    return this.entry(session);
  }

  change(session: LocalResource, change: ResourceChange): void {
    Object.assign(this.entry(session), change);
  }

  private entry(session: LocalResource): LocalEntry {
    let entry = this.states.get(session);
    if (!entry) {
      entry = new LocalEntry(session, this.node);
      this.states.set(session, entry);
    }
    return entry;
  }
}
