import type { Element } from 'ltx';
import { ComponentRegistry, type Component, type ComponentOutlet } from '../../src/components';

function component(domain: string): Component & { outlet: ComponentOutlet | undefined } {
  return {
    domain,
    outlet: undefined,
    attach(outlet) {
      this.outlet = outlet;
    },
    handle: () => undefined,
  };
}

function registry(): { components: ComponentRegistry; outletsMadeFor: string[] } {
  const outletsMadeFor: string[] = [];
  const components = new ComponentRegistry('example.com', (c) => {
    outletsMadeFor.push(c.domain);
    return { send: (_stanza: Element) => Promise.resolve() };
  });
  return { components, outletsMadeFor };
}

describe('the component registry', () => {
  it('finds a component by the domain it serves and lists components in the order registered', () => {
    const { components } = registry();
    const rooms = component('conference.example.com');
    const echo = component('echo.example.com');
    components.register(rooms);
    components.register(echo);
    expect(components.find('conference.example.com')).toBe(rooms);
    expect(components.find('example.com')).toBeUndefined();
    expect(components.find('other.example.com')).toBeUndefined();
    expect(components.list()).toEqual([rooms, echo]);
  });

  it('hands each component an outlet made for it when it is registered', () => {
    const { components, outletsMadeFor } = registry();
    const rooms = component('conference.example.com');
    components.register(rooms);
    expect(outletsMadeFor).toEqual(['conference.example.com']);
    expect(rooms.outlet).toBeDefined();
  });

  it('refuses a second component for a domain, the server domain itself, and a domain that is not a lower-case name', () => {
    const { components } = registry();
    components.register(component('conference.example.com'));
    expect(() => components.register(component('conference.example.com'))).toThrow(/already serves/);
    expect(() => components.register(component('example.com'))).toThrow(/server domain/);
    expect(() => components.register(component('Conference.example.com'))).toThrow(/lower-case/);
    expect(() => components.register(component('rooms@example.com'))).toThrow(/lower-case/);
    expect(() => components.register(component(''))).toThrow(/lower-case/);
  });
});
