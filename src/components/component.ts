import type { Element } from 'ltx';

/**
 * How a component sends stanzas out: through this node's router, to the users of the domain (on any
 * node) or to another component. Resolves once the stanza is routed; a component that needs its
 * stanzas to arrive in order (XEP-0045 §7.2.3: occupants' presence before the room subject) awaits
 * each send before the next.
 */
export interface ComponentOutlet {
  /** `from` must be at the component's domain; `to` names a user of this domain or a component. */
  send(stanza: Element): Promise<void>;
}

/**
 * A service on a subdomain of the server (`conference.<domain>` next): what XEP-0114 calls a
 * component, living inside the node instead of connecting over a socket. The router hands it every
 * stanza addressed to its domain or to a JID at it; disco#items on the server domain lists it
 * (XEP-0030 §4).
 *
 * Cluster mode: every node registers the same components, and a stanza for a component is handled on
 * the node that received it from its sender — no route table entry, no bus hop. A component therefore
 * keeps no state of its own in memory that another node would need (rooms, occupants, archives): that
 * state lives in the shared stores (Redis in cluster mode), which is the concern of the service itself,
 * not of this interface.
 */
export interface Component {
  /** The domain it serves, e.g. `conference.example.com` (lower case, RFC 7622 §3.2). */
  readonly domain: string;
  /** Its name in disco#items. */
  readonly name?: string;
  /** Called once, when registered: the way out for its answers and notifications. */
  attach(outlet: ComponentOutlet): void;
  /**
   * A stanza addressed to the component's domain or to a JID at it, `from` stamped by the server
   * (RFC 6120 §8.1.2.1). A rejection with a StanzaError is the stanza's answer, rendered to the
   * sender by the router (RFC 6120 §8.3); any other failure answers internal-server-error.
   */
  handle(stanza: Element): void | Promise<void>;
}
