import type { Element } from 'ltx';
import { parseJid, type Jid } from '../base/jid';
import type { Component, ComponentOutlet } from '../components';

/** What a component's outlet needs of the router. */
export interface ComponentRoute {
  readonly domain: string;
  /** Routes a stanza to a user of the domain or to a component. */
  route(stanza: Element, to: Jid): Promise<unknown>;
}

/**
 * The way out for one component: its stanzas go through the router like a user's, to the domain's
 * users on any node (the bus carries them in cluster mode) or to another component. The component
 * speaks only for its own domain (RFC 6120 §8.1.2.1: the server vouches for `from`), and the server
 * does not federate: anything else is a bug in the component and is refused.
 */
export function componentOutlet(router: ComponentRoute, component: Component): ComponentOutlet {
  return {
    send: async (stanza: Element) => {
      const from = parseJid(String(stanza.attrs.from ?? ''));
      if (!from || from.domain !== component.domain) {
        throw new Error(`component ${component.domain} sent a stanza from '${String(stanza.attrs.from)}'`);
      }
      const to = parseJid(String(stanza.attrs.to ?? ''));
      if (!to || (to.domain === router.domain && to.local === '')) {
        throw new Error(`component ${component.domain} sent a stanza to '${String(stanza.attrs.to)}', which is not a user or a component`);
      }
      stanza.attrs.xmlns ??= 'jabber:client';
      await router.route(stanza, to);
    },
  };
}
