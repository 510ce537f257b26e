import { Element } from 'ltx';
// The tokenizer only; ltx's own tree builder accepts trailing junk and mismatched end tags.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SaxLtx = require('ltx/lib/parsers/ltx.js') as new () => SaxTokenizer;

interface SaxTokenizer {
  on(event: 'startElement', fn: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', fn: (name: string) => void): void;
  on(event: 'text', fn: (text: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  write(data: string): void;
  end(): void;
}

export class XmlSyntaxError extends Error {}

const XML_DECLARATION = /^\s*<\?xml\s[^?]*\?>/;

/**
 * Rejects what XEP-0124 §4 forbids but ltx would skip silently: comments, processing instructions,
 * DOCTYPE and other declarations. CDATA sections are legal XML and pass (their content is not scanned).
 */
export function findForbiddenMarkup(xml: string): string | undefined {
  let from = 0;
  const declaration = XML_DECLARATION.exec(xml);
  if (declaration) from = declaration[0].length;
  for (;;) {
    const lt = xml.indexOf('<', from);
    if (lt < 0 || lt + 1 >= xml.length) return undefined;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x3f /* ? */) return 'processing instruction';
    if (next === 0x21 /* ! */) {
      if (xml.startsWith('<![CDATA[', lt)) {
        const close = xml.indexOf(']]>', lt + 9);
        if (close < 0) return 'unterminated CDATA section';
        from = close + 3;
        continue;
      }
      if (xml.startsWith('<!--', lt)) return 'comment';
      return 'markup declaration (DOCTYPE or ENTITY)';
    }
    from = lt + 1;
  }
}

/**
 * Parses one complete XML document into an ltx Element tree, strictly: a single root, matching end
 * tags, no forbidden markup, only whitespace outside the root. Throws XmlSyntaxError.
 */
export function parseStrictXml(xml: string): Element {
  const forbidden = findForbiddenMarkup(xml);
  if (forbidden) throw new XmlSyntaxError(`${forbidden} not allowed`);
  const tokenizer = new SaxLtx();
  let root: Element | undefined;
  let current: Element | undefined;
  let closed = false;
  let failure: Error | undefined;
  const fail = (message: string): void => {
    failure ??= new XmlSyntaxError(message);
  };
  tokenizer.on('startElement', (name, attrs) => {
    if (closed) return fail('content after the root element');
    const element = new Element(name, attrs);
    if (current) current.cnode(element);
    else root = element;
    current = element;
  });
  tokenizer.on('endElement', (name) => {
    if (!current || current.name !== name) return fail(`unexpected end tag </${name}>`);
    current = current.parent ?? undefined;
    if (!current) closed = true;
  });
  tokenizer.on('text', (text) => {
    if (current) current.t(text);
    else if (text.trim() !== '') fail('text outside the root element');
  });
  tokenizer.on('error', (err) => fail(err.message));
  try {
    tokenizer.write(xml);
    tokenizer.end();
  } catch (err) {
    fail((err as Error).message);
  }
  if (failure) throw failure;
  if (!root || !closed) throw new XmlSyntaxError('incomplete document');
  // The tokenizer emits text only when the next tag starts, so trailing text is checked here.
  if (xml.slice(xml.lastIndexOf('>') + 1).trim() !== '') throw new XmlSyntaxError('text outside the root element');
  return root;
}
