import type { Element } from 'ltx';
import type { Jid } from '../base/jid';
import type { Settled } from '../base/stream';
import type { StreamErrorCondition } from '../base/stream-error';

/**
 * What routing knows of a bound resource: RFC 6121 availability and priority, the last presence,
 * roster interest and XEP-0280 carbons. The router keeps it and changes it (`Router.update`); every
 * other module only reads it.
 */
export interface ResourceState {
  /** Has sent initial presence and not yet unavailable. */
  readonly available: boolean;
  readonly priority: number;
  /** The last broadcast available presence, as sent to contacts (RFC 6121 §4.2). */
  readonly lastPresence: Element | undefined;
  /** Requested the roster: an "interested resource" that gets roster pushes (RFC 6121 §2.1.6). */
  readonly interested: boolean;
  /** XEP-0280: receives copies of this account's messages. */
  readonly carbons: boolean;
}

/** A bound resource anywhere in the cluster, as routing and presence see it: its state and a way to reach it. */
export interface Resource extends ResourceState {
  readonly jid: Jid;
  readonly resource: string;
  /** The node whose session this is. */
  readonly node: string;
  /** `settled`, if given, is called once the client has the stanza or it was routed again (see Settled); only a session of this node takes it. */
  deliver(stanza: Element, settled?: Settled): void;
  /**
   * Delivers, and resolves once the stanza is out of this node's hands (on the bus to another node),
   * so the request that carried it is answered only then: a node that dies a moment later has not
   * taken it with it. Absent for a session of this node.
   */
  handOver?(stanza: Element): Promise<void>;
}

/**
 * Asks to be told when a stanza handed to a session is settled (see Settled): a bus entry is
 * removed only then. Each call returns one callback, to be called once.
 */
export type SettleClaim = () => Settled;

/** A session on this node, as the router reaches it: an address, delivery, and being replaced. */
export interface LocalResource {
  readonly jid: Jid;
  readonly resource: string;
  /** `settled`, if given, is called once the client has the stanza or it was routed again (see Settled). */
  deliver(stanza: Element, settled?: Settled): void;
  /** Another session bound the same resource and replaced this one (RFC 6120 §7.7.2.2). */
  replaced(): void;
  /** The server ends the session with a stream error (RFC 6120 §4.9): the account was removed, or it was kicked. */
  closeWith(condition: StreamErrorCondition, text: string): void;
}
