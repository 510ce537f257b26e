import { Element } from 'ltx';
import { cloneElement, parseStrictXml, serializeXml, TruncatedElement } from '../../src/xml';

/** A chain of `depth` elements built in a loop (no parser, no recursion). */
function chain(depth: number): Element {
  const root = new Element('e', { level: '1' });
  let current = root;
  for (let level = 2; level <= depth; level++) current = current.c('e', { level: String(level) });
  current.t('bottom');
  return root;
}

describe('the serialiser writes what ltx writes', () => {
  it.each([
    ['an empty element', new Element('presence', { xmlns: 'jabber:client' })],
    ['attribute values needing every escape', new Element('a', { v: `<&>"'`, w: 'plain' })],
    ['text needing escapes, quotes left as they are', new Element('body').t(`1 < 2 & 3 > 2 "q" 'a'`)],
    ['mixed content', new Element('m').t('a').c('b', { x: '1' }).t('c').up().t('d').c('e').up()],
    ['an element whose only child is empty text', new Element('m').t('')],
    ['a numeric attribute and a missing one', new Element('m', { n: 42, u: undefined })],
  ])('serialises %s exactly like ltx', (_what, element) => {
    expect(serializeXml(element)).toBe(element.toString());
  });

  it('serialises a parsed stanza like ltx, and that output parses back to the same text', () => {
    const stanza = parseStrictXml(
      `<message xmlns='jabber:client' to='b@x/r' id='1'><body>x &amp; y &lt;3 😀</body><x xmlns='urn:a' v='"&apos;'><y/>t</x></message>`,
    );
    const text = serializeXml(stanza);
    expect(text).toBe(stanza.toString());
    expect(serializeXml(parseStrictXml(text))).toBe(text);
  });

  it('writes a tree 100,000 levels deep, which ltx cannot', () => {
    const deep = chain(100_000);
    expect(() => deep.toString()).toThrow(RangeError);
    const text = serializeXml(deep);
    expect(text.startsWith(`<e level="1"><e level="2">`)).toBe(true);
    expect(text.endsWith(`<e level="100000">bottom</e>${'</e>'.repeat(99_999)}`)).toBe(true);
  });
});

describe('the clone is deep and independent', () => {
  it('copies names, attributes and children without sharing elements or attribute objects', () => {
    const original = parseStrictXml(`<message to='a' xmlns='jabber:client'><body>hi</body><x xmlns='urn:x'><y k='v'/></x></message>`);
    const copy = cloneElement(original);
    expect(serializeXml(copy)).toBe(serializeXml(original));
    expect(copy.getChild('x')?.parent).toBe(copy);
    copy.attrs.to = 'b';
    (copy.getChild('x')?.getChild('y') as Element).attrs.k = 'changed';
    copy.getChild('body')?.children.push('!');
    expect(serializeXml(original)).toBe(`<message to="a" xmlns="jabber:client"><body>hi</body><x xmlns="urn:x"><y k="v"/></x></message>`);
  });

  it('keeps the class of each element (a truncated stanza stays truncated)', () => {
    expect(cloneElement(new TruncatedElement('message', { id: '1' }))).toBeInstanceOf(TruncatedElement);
  });

  it('clones a tree 100,000 levels deep', () => {
    const copy = cloneElement(chain(100_000));
    let depth = 0;
    let bottom: Element | undefined = copy;
    for (let e: Element | undefined = copy; e; e = e.getChild('e')) {
      depth++;
      bottom = e;
    }
    expect(depth).toBe(100_000);
    expect(bottom?.getText()).toBe('bottom');
    expect(bottom?.attrs.level).toBe('100000');
  });
});
