/**
 * XML 1.0 (Fifth Edition) character classes: what a document may contain at all (§2.2 Char) and what
 * a name may be made of (§2.3 Name). A peer's parser refuses a whole document that breaks either,
 * so nothing that breaks them may reach another user's stream (RFC 6120 §11.1).
 */

/** §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
export function isXmlChar(codePoint: number): boolean {
  if (codePoint >= 0x20) return codePoint <= 0xd7ff || (codePoint >= 0xe000 && codePoint <= 0xfffd) || (codePoint >= 0x10000 && codePoint <= 0x10ffff);
  return codePoint === 0x9 || codePoint === 0xa || codePoint === 0xd;
}

// With the u flag a lone surrogate is one code point in D800-DFFF, outside every allowed range,
// while a proper pair is one code point above FFFF: lone surrogates are found, pairs pass.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// The same test on UTF-16 code units, several times faster; it also stops at every surrogate, so
// text outside the Basic Multilingual Plane (emoji) gets the full test above.
const NOT_BMP_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/;

/** Whether literal text holds a character outside §2.2 Char (controls, U+FFFE/FFFF, lone surrogates). */
export function hasNonXmlChar(text: string): boolean {
  return NOT_BMP_XML_CHAR.test(text) && NOT_XML_CHAR.test(text);
}

// §2.3 NameStartChar and NameChar, without the colon: Namespaces in XML §3 NCName.
const NC_NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NC_NAME_CHAR = `${NC_NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
const NC_NAME = `[${NC_NAME_START}][${NC_NAME_CHAR}]*`;
// RFC 6120 §11.2 wants namespace-well-formed XML: a name is a QName, at most one colon, with a
// prefix and a local part that are both names. Every QName is also an XML 1.0 Name.
// The class lists ranges (combining marks U+0300-U+036F among them), not a combined character.
// eslint-disable-next-line no-misleading-character-class
const QNAME = new RegExp(`^(?:${NC_NAME}:)?${NC_NAME}$`, 'u');
const SIMPLE_QNAME = /^(?:[A-Za-z_][A-Za-z0-9._-]*:)?[A-Za-z_][A-Za-z0-9._-]*$/;

/** Whether an element or attribute name is a QName (Namespaces in XML §4), hence an XML 1.0 Name. */
export function isQualifiedName(name: string): boolean {
  // Nearly every name on the wire is plain ASCII; the full class only runs for the rest.
  return SIMPLE_QNAME.test(name) || QNAME.test(name);
}
