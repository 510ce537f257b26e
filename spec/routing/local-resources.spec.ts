import type { Element } from 'ltx';
import { LocalResources } from '../../src/routing/local-resources';
import type { LocalResource } from '../../src/routing/resource';
import { makeJid } from '../../src/base/jid';

function session(resource: string, delivered: Element[] = []): LocalResource & { replacedCount: number } {
  return {
    jid: makeJid('alice', 'localhost', resource),
    resource,
    replacedCount: 0,
    deliver: (stanza: Element) => delivered.push(stanza),
    replaced() {
      this.replacedCount++;
    },
    closeWith: () => undefined,
  };
}

describe("this node's resource registry", () => {
  it('finds a bound session by resource and counts it once', () => {
    const registry = new LocalResources('n1');
    const phone = session('phone');
    expect(registry.add(phone)).toBeUndefined();
    expect(registry.find('alice@localhost', 'phone')).toBe(phone);
    expect(registry.count).toBe(1);
    expect(registry.of('alice@localhost').map((r) => [r.resource, r.node])).toEqual([['phone', 'n1']]);
  });

  it('hands back the session a new binding of the same resource displaces', () => {
    const registry = new LocalResources('n1');
    const old = session('phone');
    registry.add(old);
    expect(registry.add(session('phone'))).toBe(old);
    expect(registry.count).toBe(1);
    expect(registry.remove(old)).toBe(false);
  });

  it("keeps a session's state after it is unbound, for its last presence broadcast", () => {
    const registry = new LocalResources('n1');
    const phone = session('phone');
    registry.add(phone);
    registry.change(phone, { available: true, priority: 5 });
    expect(registry.remove(phone)).toBe(true);
    expect(registry.count).toBe(0);
    expect(registry.state(phone)).toMatchObject({ available: true, priority: 5, carbons: false });
  });
});
