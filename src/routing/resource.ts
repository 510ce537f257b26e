import type { Element } from 'ltx';
import type { Jid } from '../xmpp/jid';

/**
 * A bound resource anywhere in the cluster, as routing and presence see it: its state (RFC 6121
 * availability and priority, last presence, roster interest, XEP-0280 carbons) and a way to reach it.
 */
export interface Resource {
  readonly jid: Jid;
  readonly resource: string;
  /** The node whose session this is. */
  readonly node: string;
  readonly available: boolean;
  readonly priority: number;
  readonly lastPresence: Element | undefined;
  readonly interested: boolean;
  readonly carbons: boolean;
  deliver(stanza: Element): void;
}

/** A resource whose session lives on this node. */
export interface LocalResource extends Resource {
  /** Another session bound the same resource and replaced this one (RFC 6120 §7.7.2.2). */
  replaced(): void;
}
