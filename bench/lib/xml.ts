// Minimal string helpers for the hot path of the load generator: no XML parser, only indexOf.

export const HTTPBIND_NS = 'http://jabber.org/protocol/httpbind';

/** Value of attribute `name` in `text` (first occurrence, either quote style), or undefined. */
export function attr(text: string, name: string, from = 0, to = text.length): string | undefined {
  let i = from;
  for (;;) {
    i = text.indexOf(name + '=', i);
    if (i < 0 || i >= to) return undefined;
    const before = i === 0 ? 32 : text.charCodeAt(i - 1);
    // must be a whole attribute name: preceded by whitespace
    if (before === 32 || before === 9 || before === 10 || before === 13) {
      const q = text[i + name.length + 1];
      if (q === "'" || q === '"') {
        const start = i + name.length + 2;
        const end = text.indexOf(q, start);
        if (end < 0) return undefined;
        return text.slice(start, end);
      }
    }
    i += name.length + 1;
  }
}

/** The opening `<body ...>` tag of a BOSH response (or the whole text if malformed). */
export function bodyTag(text: string): string {
  const s = text.indexOf('<body');
  if (s < 0) return '';
  const e = text.indexOf('>', s);
  return e < 0 ? text.slice(s) : text.slice(s, e + 1);
}

export function isTerminate(text: string): boolean {
  const tag = bodyTag(text);
  return attr(tag, 'type') === 'terminate';
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}
