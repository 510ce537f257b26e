import type { Element } from 'ltx';

/*
 * Writes an element tree as XML without recursion: the depth of a stanza is the client's choice, and
 * ltx's own writer recurses once per level (a deep enough tree overflowed the stack). The output is
 * the same as ltx's toString(): attributes in double quotes, empty elements self-closed.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const ATTRIBUTE_SPECIALS = /["&'<>]/;
const ATTRIBUTE_SPECIALS_ALL = /["&'<>]/g;
const TEXT_SPECIALS = /[&<>]/;
const TEXT_SPECIALS_ALL = /[&<>]/g;

function escape(c: string): string {
  return ESCAPES[c] as string;
}

function escapeAttribute(value: string): string {
  return ATTRIBUTE_SPECIALS.test(value) ? value.replace(ATTRIBUTE_SPECIALS_ALL, escape) : value;
}

function escapeText(text: string): string {
  return TEXT_SPECIALS.test(text) ? text.replace(TEXT_SPECIALS_ALL, escape) : text;
}

function startTag(element: Element): string {
  let tag = `<${element.name}`;
  const attrs = element.attrs as Record<string, unknown>;
  for (const name in attrs) {
    const value = attrs[name];
    if (value === undefined || value === null) continue;
    // Callers set numbers and booleans as well as strings (ltx takes any value); they print as themselves.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    tag += ` ${name}="${escapeAttribute(typeof value === 'string' ? value : String(value))}"`;
  }
  return tag;
}

/** The XML text of an element and everything in it. */
export function serializeXml(element: Element): string {
  let out = startTag(element);
  if (element.children.length === 0) return `${out}/>`;
  out += '>';
  // The open elements, and for each the index of the next child to write.
  const open: Element[] = [element];
  const nextChild: number[] = [0];
  while (open.length > 0) {
    const top = open.length - 1;
    const parent = open[top] as Element;
    const index = nextChild[top] as number;
    if (index >= parent.children.length) {
      out += `</${parent.name}>`;
      open.pop();
      nextChild.pop();
      continue;
    }
    nextChild[top] = index + 1;
    const child = parent.children[index];
    if (typeof child === 'string') {
      out += escapeText(child);
    } else if (typeof child === 'object' && child !== null) {
      out += startTag(child);
      if (child.children.length === 0) {
        out += '/>';
      } else {
        out += '>';
        open.push(child);
        nextChild.push(0);
      }
    } else if (child !== undefined && child !== null) {
      out += escapeText(String(child));
    }
  }
  return out;
}
