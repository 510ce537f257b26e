/*
 * Why a parser of our own. Every request body passes through here, so it must be strict, fast and
 * must report where each top-level child starts and ends:
 *  - ltx's tokenizer is fast but lenient: it takes a bare '&', '<' in attribute values, unquoted or
 *    duplicate attributes, any name, and forbidden literal characters; it skips comments and PIs
 *    silently; and it reports no positions, so a stanza's size could only be had by serialising it.
 *  - saxes enforces XML 1.0 but took 180-290 µs on a typical 1 KB body where ltx's tokenizer took
 *    about 20 µs (8 to 10 times slower), and still lets a lone high surrogate through when any
 *    non-surrogate follows it.
 * This parser reads the restricted XML that XMPP allows (RFC 6120 §11: no comments, PIs, DTDs or
 * entity declarations) with sticky regular expressions, checks the XML 1.0 Char and Name rules on
 * every name, value and text (literal characters, and the value of every reference as it is
 * decoded), counts depth as it goes and stops at the limit, and records each top-level child's byte
 * length from the input. On that 1 KB body it takes 22-30 µs against 17-24 µs for ltx's tokenizer
 * with the old pre-scan; the iterative serialiser (serialize.ts) saves 2-3 µs of that on the way
 * out. It never recurses.
 */
import { Element } from 'ltx';
import { hasNonXmlChar, isQualifiedName, isXmlChar } from './characters';

/** The document is not well-formed XML, or uses markup XMPP forbids. */
export class XmlSyntaxError extends Error {}

/** The document nests elements deeper than allowed; parsing stopped there. */
export class XmlDepthError extends Error {}

/**
 * Stands where a top-level child nested deeper than allowed: the same name and attributes, none of
 * its content (which was checked for well-formedness but never built).
 */
export class TruncatedElement extends Element {}

/**
 * Depth limit for XML this node wrote itself (stored stanzas, the cluster bus): above the largest
 * configurable stanza depth plus the few levels a wrapper (a carbon) adds.
 */
export const STORED_XML_MAX_DEPTH = 1024;

export interface ParseLimits {
  /** Deepest element allowed anywhere (the root is level 1); beyond it parsing stops with XmlDepthError. */
  readonly maxDepth: number;
  /**
   * Deepest level the content of a child of the root may reach; a child that goes deeper becomes a
   * TruncatedElement and the rest of the document goes on. Unset: maxDepth.
   */
  readonly maxChildDepth?: number;
}

export interface ParsedChild {
  /** The child of the root as parsed, or a TruncatedElement. */
  readonly element: Element;
  /** Its length in the input, in UTF-8 bytes, from its start tag to the end of its end tag. */
  readonly bytes: number;
}

export interface ParsedDocument {
  readonly root: Element;
  /** The element children of the root, in order. */
  readonly children: readonly ParsedChild[];
}

const XML_DECLARATION =
  /^\uFEFF?[ \t\r\n]*<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:'1\.[0-9]+'|"1\.[0-9]+")(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:'[A-Za-z][A-Za-z0-9._-]*'|"[A-Za-z][A-Za-z0-9._-]*"))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:'(?:yes|no)'|"(?:yes|no)"))?[ \t\r\n]*\?>/;
// Tag pieces, matched at a given position (sticky). Names are checked apart, so these only cut.
const START_TAG = /<([^ \t\r\n/>]+)/y;
const ATTRIBUTE = /[ \t\r\n]+([^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*(?:'([^'<]*)'|"([^"<]*)")/y;
const TAG_CLOSE = /[ \t\r\n]*(\/?)>/y;
const END_TAG = /<\/([^ \t\r\n>]+)[ \t\r\n]*>/y;
// XML 1.0 §4.6 predefined entities and §4.1 character references; nothing else is declared.
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));/y;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const WHITESPACE_ONLY = /^\uFEFF?[ \t\r\n]*$/;

/** Decodes references in text or an attribute value; literal characters are checked by the caller. */
function decodeReferences(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let decoded = '';
  let from = 0;
  while (amp >= 0) {
    REFERENCE.lastIndex = amp;
    const match = REFERENCE.exec(raw);
    if (!match) throw new XmlSyntaxError(raw.startsWith('&#', amp) ? 'malformed character reference' : 'undefined entity or bare &');
    decoded += raw.slice(from, amp);
    if (match[1] !== undefined) {
      decoded += PREDEFINED[match[1]] as string;
    } else {
      const codePoint = match[2] !== undefined ? Number(match[2]) : parseInt(match[3] as string, 16);
      // XML 1.0 §4.1: a character reference must name a Char (so &#1;, &#xFFFE;, &#xD800; are errors).
      if (!isXmlChar(codePoint)) throw new XmlSyntaxError(`character reference to a character XML forbids: ${match[0]}`);
      decoded += String.fromCodePoint(codePoint);
    }
    from = REFERENCE.lastIndex;
    amp = raw.indexOf('&', from);
  }
  return decoded + raw.slice(from);
}

function checkedValue(raw: string): string {
  if (hasNonXmlChar(raw)) throw new XmlSyntaxError('a character XML forbids');
  return decodeReferences(raw);
}

function checkedText(raw: string): string {
  // XML 1.0 §2.4: ']]>' may not appear in character data.
  if (raw.includes(']]>')) throw new XmlSyntaxError("']]>' in character data");
  return checkedValue(raw);
}

function checkedName(name: string): string {
  if (!isQualifiedName(name)) throw new XmlSyntaxError(`not an XML name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Parses one complete XML document strictly: a single root, matching end tags, no forbidden markup,
 * only whitespace outside the root, XML 1.0 characters and names throughout. Throws XmlSyntaxError,
 * or XmlDepthError as soon as an element is deeper than `limits.maxDepth`.
 */
export function parseXmlDocument(xml: string, limits: ParseLimits): ParsedDocument {
  const maxDepth = limits.maxDepth;
  // A child of the root is level 2: it can be cut only below that.
  const maxChildDepth = Math.max(2, Math.min(limits.maxChildDepth ?? maxDepth, maxDepth));
  const names: string[] = [];
  const children: ParsedChild[] = [];
  let root: Element | undefined;
  let current: Element | undefined;
  // Inside a child of the root that is too deep: checked but not built.
  let skipping = false;
  let childStart = 0;
  let pos = 0;

  const declaration = XML_DECLARATION.exec(xml);
  if (declaration) pos = declaration[0].length;

  const endOfChild = (end: number): void => {
    const element = root?.children[root.children.length - 1] as Element;
    children.push({ element, bytes: Buffer.byteLength(xml.slice(childStart, end)) });
    skipping = false;
    current = root;
  };

  for (;;) {
    const lt = xml.indexOf('<', pos);
    if (lt !== pos && pos < xml.length) {
      const text = xml.slice(pos, lt < 0 ? xml.length : lt);
      if (names.length === 0) {
        if (!WHITESPACE_ONLY.test(text)) throw new XmlSyntaxError('text outside the root element');
      } else {
        const decoded = checkedText(text);
        if (!skipping) current?.t(decoded);
      }
    }
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);

    if (next === 0x2f /* / */) {
      END_TAG.lastIndex = lt;
      const match = END_TAG.exec(xml);
      const name = match?.[1];
      if (!match || name !== names[names.length - 1]) throw new XmlSyntaxError(`unexpected end tag </${name ?? ''}>`);
      names.pop();
      pos = END_TAG.lastIndex;
      if (names.length === 1) endOfChild(pos);
      else if (!skipping && names.length > 1) current = current?.parent ?? undefined;
      continue;
    }

    if (next === 0x21 /* ! */) {
      if (!xml.startsWith('<![CDATA[', lt)) {
        throw new XmlSyntaxError(xml.startsWith('<!--', lt) ? 'comment not allowed' : 'markup declaration (DOCTYPE or ENTITY) not allowed');
      }
      if (names.length === 0) throw new XmlSyntaxError('CDATA section outside the root element');
      const close = xml.indexOf(']]>', lt + 9);
      if (close < 0) throw new XmlSyntaxError('unterminated CDATA section');
      const content = xml.slice(lt + 9, close);
      if (hasNonXmlChar(content)) throw new XmlSyntaxError('a character XML forbids');
      if (!skipping && content !== '') current?.t(content);
      pos = close + 3;
      continue;
    }

    if (next === 0x3f /* ? */) throw new XmlSyntaxError('processing instruction not allowed');

    // A start tag.
    if (root && names.length === 0) throw new XmlSyntaxError('content after the root element');
    START_TAG.lastIndex = lt;
    const tag = START_TAG.exec(xml);
    if (!tag) throw new XmlSyntaxError('malformed start tag');
    const name = checkedName(tag[1] as string);
    const attrs: Record<string, string> = {};
    let at = START_TAG.lastIndex;
    for (;;) {
      ATTRIBUTE.lastIndex = at;
      const attribute = ATTRIBUTE.exec(xml);
      if (!attribute) break;
      const attrName = checkedName(attribute[1] as string);
      if (Object.hasOwn(attrs, attrName)) throw new XmlSyntaxError(`duplicate attribute ${attrName}`);
      attrs[attrName] = checkedValue(attribute[2] ?? attribute[3] ?? '');
      at = ATTRIBUTE.lastIndex;
    }
    TAG_CLOSE.lastIndex = at;
    const close = TAG_CLOSE.exec(xml);
    if (!close) throw new XmlSyntaxError(`malformed start tag <${name}>`);
    pos = TAG_CLOSE.lastIndex;
    const selfClosing = close[1] === '/';

    const level = names.length + 1;
    if (level > maxDepth) throw new XmlDepthError(`elements nested deeper than ${maxDepth} levels`);
    if (level === 2) childStart = lt;
    if (!skipping) {
      if (level > maxChildDepth) {
        // The child of the root this element is in goes too deep: keep only its start tag.
        const parsed = root as Element;
        const child = parsed.children[parsed.children.length - 1] as Element;
        const marker = new TruncatedElement(child.name, child.attrs);
        marker.parent = parsed;
        parsed.children[parsed.children.length - 1] = marker;
        skipping = true;
      } else {
        const element = new Element(name, attrs);
        if (current) current.cnode(element);
        else root = element;
        current = element;
      }
    }
    if (selfClosing) {
      if (level === 2) endOfChild(pos);
      else if (!skipping && level > 2) current = current?.parent ?? undefined;
    } else {
      names.push(name);
    }
  }

  if (!root || names.length > 0) throw new XmlSyntaxError('incomplete document');
  return { root, children };
}

/** Parses one complete document into an ltx Element tree (see parseXmlDocument). */
export function parseStrictXml(xml: string, maxDepth = STORED_XML_MAX_DEPTH): Element {
  return parseXmlDocument(xml, { maxDepth }).root;
}
