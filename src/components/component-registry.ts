import type { Component, ComponentOutlet } from './component';

/** Makes the outlet a component sends through, once it is known which component sends. */
export type OutletFactory = (component: Component) => ComponentOutlet;

/**
 * The components of this node, by domain. Every node of a cluster registers the same ones (see
 * Component); a component registered after start-up takes stanzas from then on.
 */
export class ComponentRegistry {
  private readonly byDomain = new Map<string, Component>();

  constructor(
    /** The server's own domain: a component serves a different one. */
    readonly serverDomain: string,
    private readonly outletFor: OutletFactory,
  ) {}

  /** Adds a component and hands it its outlet; a domain serves one component. */
  register(component: Component): void {
    const domain = component.domain;
    if (domain === '' || domain !== domain.toLowerCase() || /[\s/@]/.test(domain)) {
      throw new Error(`a component domain must be a lower-case domain name, not '${domain}'`);
    }
    if (domain === this.serverDomain) throw new Error(`the server domain ${domain} cannot be a component`);
    if (this.byDomain.has(domain)) throw new Error(`a component already serves ${domain}`);
    this.byDomain.set(domain, component);
    component.attach(this.outletFor(component));
  }

  /** The component serving a domain (the domain part of a JID), if any. */
  find(domain: string): Component | undefined {
    return this.byDomain.get(domain);
  }

  /** Every component, in the order registered (disco#items lists them so). */
  list(): readonly Component[] {
    return [...this.byDomain.values()];
  }
}
