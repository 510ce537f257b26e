import type { Element } from 'ltx';

type ElementClass = new (name: string, attrs?: Record<string, unknown>) => Element;

/**
 * A deep copy of an element tree without recursion (ltx's clone recurses once per level, and a
 * stanza's depth is the client's choice). Attributes are copied, text shared (strings are immutable).
 */
export function cloneElement(element: Element): Element {
  const make = (from: Element): Element => new (from.constructor as ElementClass)(from.name, from.attrs);
  const copy = make(element);
  const pending: Array<readonly [Element, Element]> = [[element, copy]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [from, to] = next;
    for (const child of from.children) {
      if (typeof child === 'object' && child !== null) {
        const childCopy = make(child);
        to.cnode(childCopy);
        pending.push([child, childCopy]);
      } else {
        to.children.push(child);
      }
    }
  }
  return copy;
}
