import type { Element } from 'ltx';
import { parseStrictXml, parseXmlDocument, TruncatedElement, XmlDepthError, XmlSyntaxError } from '../../src/xml';
import { FORBIDDEN_CHARACTERS as FORBIDDEN } from '../support/forbidden-characters';

/** `<r><e><e>…</e></e></r>`: the root holds a chain making the document `depth` levels deep. */
function nested(depth: number, name = 'e'): string {
  return `<r>${`<${name}>`.repeat(depth - 1)}${`</${name}>`.repeat(depth - 1)}</r>`;
}

function depthOf(element: Element): number {
  let depth = 1;
  for (let e: Element | undefined = element; e; e = e.children.find((c): c is Element => typeof c !== 'string')) depth++;
  return depth - 1;
}

function syntaxError(xml: string): string {
  try {
    parseStrictXml(xml);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return 'not well-formed';
    throw err;
  }
  return 'accepted';
}

describe('the depth limit is enforced while parsing', () => {
  it.each([47, 48])('builds a document %i levels deep under a limit of 48', (depth) => {
    expect(depthOf(parseStrictXml(nested(depth), 48))).toBe(depth);
  });

  it('stops at the first element deeper than the limit', () => {
    expect(() => parseStrictXml(nested(49), 48)).toThrow(XmlDepthError);
  });

  it('refuses 20,000 nested elements at once, without building them or exhausting the stack', () => {
    expect(() => parseStrictXml(nested(20_000), 48)).toThrow(XmlDepthError);
  });

  it('counts self-closing elements as a level too', () => {
    expect(() => parseStrictXml(`<r>${'<e>'.repeat(46)}<leaf/>${'</e>'.repeat(46)}</r>`, 48)).not.toThrow();
    expect(() => parseStrictXml(`<r>${'<e>'.repeat(47)}<leaf/>${'</e>'.repeat(47)}</r>`, 48)).toThrow(XmlDepthError);
  });
});

describe('a child of the root deeper than maxChildDepth is cut out alone', () => {
  const limits = { maxDepth: 20, maxChildDepth: 10 };
  const deepChild = `<m id='deep' to='x'>${'<e>'.repeat(9)}${'</e>'.repeat(9)}</m>`;

  it('replaces it by an empty TruncatedElement with its name and attributes, and keeps its siblings', () => {
    const { root, children } = parseXmlDocument(`<r><m id='1'><b>hi</b></m>${deepChild}<m id='2'/></r>`, limits);
    expect(children.map((c) => c.element.attrs.id)).toEqual(['1', 'deep', '2']);
    const cut = children[1]?.element as Element;
    expect(cut).toBeInstanceOf(TruncatedElement);
    expect(cut.attrs).toEqual({ id: 'deep', to: 'x' });
    expect(cut.children).toEqual([]);
    expect(root.children).toEqual(children.map((c) => c.element));
    expect(children[0]?.element.getChildText('b')).toBe('hi');
    expect(children[0]?.element).not.toBeInstanceOf(TruncatedElement);
  });

  it('keeps a child that reaches exactly maxChildDepth', () => {
    const child = `<m>${'<e>'.repeat(8)}${'</e>'.repeat(8)}</m>`;
    const { children } = parseXmlDocument(`<r>${child}</r>`, limits);
    expect(children[0]?.element).not.toBeInstanceOf(TruncatedElement);
    expect(depthOf(children[0]?.element as Element)).toBe(9);
  });

  it('still checks the content it does not build', () => {
    expect(() => parseXmlDocument(`<r><m>${'<e>'.repeat(12)}&#1;${'</e>'.repeat(12)}</m></r>`, limits)).toThrow(XmlSyntaxError);
    expect(() => parseXmlDocument(`<r><m>${'<e>'.repeat(12)}${'</e>'.repeat(11)}</m></r>`, limits)).toThrow(XmlSyntaxError);
  });

  it('still stops the whole document at maxDepth', () => {
    expect(() => parseXmlDocument(`<r><m>${'<e>'.repeat(30)}${'</e>'.repeat(30)}</m></r>`, limits)).toThrow(XmlDepthError);
  });
});

describe('each child of the root is measured in bytes of the input', () => {
  it('gives the UTF-8 length of each child from its start tag to the end of its end tag', () => {
    const first = `<m id='1'><body>héllo 😀 &amp; &#x263A;</body></m>`;
    const second = `<p/>`;
    const { children } = parseXmlDocument(`<?xml version='1.0'?>\n<r a='1'>\n  ${first}\n  ${second}</r>`, { maxDepth: 10 });
    expect(children.map((c) => c.bytes)).toEqual([Buffer.byteLength(first), Buffer.byteLength(second)]);
  });
});

const FORMS: ReadonlyArray<readonly [string, (cp: number) => string]> = [
  ['a literal character', (cp) => String.fromCharCode(cp)],
  ['a decimal character reference', (cp) => `&#${cp};`],
  ['a hexadecimal character reference', (cp) => `&#x${cp.toString(16).toUpperCase()};`],
];

describe('XML 1.0 Char on text and attribute values, after decoding references (§2.2, §4.1)', () => {
  for (const [form, write] of FORMS) {
    it.each(FORBIDDEN)(`refuses %s as ${form} in text`, (_what, cp) => {
      expect(syntaxError(`<r><b>a${write(cp)}b</b></r>`)).toBe('not well-formed');
    });

    it.each(FORBIDDEN)(`refuses %s as ${form} in an attribute value`, (_what, cp) => {
      expect(syntaxError(`<r><b v='a${write(cp)}b'/></r>`)).toBe('not well-formed');
    });
  }

  it('refuses a lone high surrogate followed by an ordinary character', () => {
    expect(syntaxError('<r>x\uD800y</r>')).toBe('not well-formed');
  });

  it('refuses a reference to a surrogate even when a literal surrogate completes the pair', () => {
    expect(syntaxError('<r>&#xD83D;\uDE00</r>')).toBe('not well-formed');
  });

  it('refuses a reference beyond U+10FFFF and forbidden characters in CDATA', () => {
    expect(syntaxError('<r>&#x110000;</r>')).toBe('not well-formed');
    expect(syntaxError('<r><![CDATA[\u0001]]></r>')).toBe('not well-formed');
  });

  it.each([
    ['tab', 0x9],
    ['line feed', 0xa],
    ['carriage return', 0xd],
    ['space', 0x20],
    ['U+D7FF', 0xd7ff],
    ['U+E000', 0xe000],
    ['U+FFFD', 0xfffd],
    ['U+10000', 0x10000],
    ['U+10FFFF', 0x10ffff],
  ])('accepts %s, literal and referenced', (_what, cp) => {
    const literal = String.fromCodePoint(cp);
    expect(parseStrictXml(`<r v='${literal}'>${literal}</r>`).getText()).toBe(literal);
    expect(parseStrictXml(`<r v='&#${cp};'>&#x${cp.toString(16)};</r>`).attrs.v).toBe(literal);
  });

  it('decodes the five predefined entities and a surrogate pair', () => {
    const root = parseStrictXml(`<r v='&lt;&amp;&gt;&quot;&apos;'>&lt;&amp;&gt;&quot;&apos; 😀</r>`);
    expect(root.attrs.v).toBe(`<&>"'`);
    expect(root.getText()).toBe(`<&>"' 😀`);
  });
});

describe('entities: only the five XML predefines (XMPP allows no DTD)', () => {
  it.each([
    ['an undeclared entity', '<r>&nbsp;</r>'],
    ['an undeclared entity in an attribute', "<r v='&copy;'/>"],
    ['a bare ampersand', '<r>fish & chips</r>'],
    ['an unterminated reference', '<r>&#65 x;</r>'],
    ['a reference with junk', '<r>&#65x;</r>'],
    ['an empty reference', '<r>&#;</r>'],
  ])('refuses %s', (_what, xml) => {
    expect(syntaxError(xml)).toBe('not well-formed');
  });
});

describe('XML 1.0 Name (§2.3) and namespace-well-formed names (RFC 6120 §11.2)', () => {
  it.each([
    ['an element name starting with a digit', '<r><1a/></r>'],
    ['an element name starting with a hyphen', '<r><-a/></r>'],
    ['an element name starting with a dot', '<r><.a/></r>'],
    ['an element name holding a forbidden character', '<r><a\u0001b/></r>'],
    ['an element name holding a lone surrogate', '<r><a\uD800/></r>'],
    ['an element name with two colons', '<r><a:b:c/></r>'],
    ['an element name with an empty prefix', '<r><:a/></r>'],
    ['an element name ending in a colon', '<r><a:/></r>'],
    ['an attribute name starting with a digit', "<r 1a='x'/>"],
    ['an attribute name holding a quote', `<r a"b='x'/>`],
    ['an attribute name holding U+FFFE', "<r a\uFFFEb='x'/>"],
    ['an attribute name with two colons', "<r a:b:c='x'/>"],
  ])('refuses %s', (_what, xml) => {
    expect(syntaxError(xml)).toBe('not well-formed');
  });

  it('accepts names beyond ASCII, prefixed names, and the characters allowed after the first', () => {
    const root = parseStrictXml(`<r xmlns:é='urn:x'><é:élan_1.2-3 中文='v'/><a·b/></r>`);
    expect((root.children[0] as Element).name).toBe('é:élan_1.2-3');
    expect((root.children[0] as Element).attrs['中文']).toBe('v');
  });
});

describe('well-formedness that the lenient tokenizer used to let through', () => {
  it.each([
    ['a duplicate attribute', "<r a='1' a='2'/>"],
    ['a duplicate attribute named like an Object method', "<r toString='1' toString='2'/>"],
    ['< in an attribute value', "<r a='<'/>"],
    ['an unquoted attribute value', '<r a=b/>'],
    ['attributes without whitespace between them', "<r a='1'b='2'/>"],
    ['an attribute without a value', '<r a/>'],
    [']]> in text', '<r>a]]>b</r>'],
    ['a mismatched end tag', '<r><a></b></r>'],
    ['an unclosed element', '<r><a></r>'],
    ['a lone <', '<r>a < b</r>'],
    ['a comment', '<r><!-- x --></r>'],
    ['a processing instruction', '<r><?pi x?></r>'],
    ['a DOCTYPE', '<!DOCTYPE r><r/>'],
    ['a second root', '<r/><r/>'],
    ['text after the root', '<r/>x'],
    ['an unterminated CDATA section', '<r><![CDATA[x</r>'],
    ['an empty document', ''],
  ])('refuses %s', (_what, xml) => {
    expect(syntaxError(xml)).toBe('not well-formed');
  });

  it('accepts an attribute named like an Object method once, and whitespace around =', () => {
    expect(parseStrictXml(`<r toString = "1"\n constructor='2' />`).attrs).toEqual({ toString: '1', constructor: '2' });
  });
});
