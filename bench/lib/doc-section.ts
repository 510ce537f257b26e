// A section of docs/performance.md between two HTML-comment markers, which a run that measured it replaces and
// any other run keeps as it is.

/** The section of `existing` from `start` to `end` (markers included), or ''. */
export function keptSection(existing: string, start: string, end: string): string {
  const a = existing.indexOf(start);
  const b = existing.indexOf(end, a);
  return a >= 0 && b > a ? existing.slice(a, b + end.length) : '';
}

/**
 * Puts `section` into `existing`: in place of the old one (same markers), else before the first of `before` (line
 * starts such as '## How to run') found, else at the end.
 */
export function spliceSection(existing: string, section: string, start: string, end: string, before: readonly string[]): string {
  const old = keptSection(existing, start, end);
  if (old) return existing.replace(old, () => section);
  for (const next of before) {
    const at = existing.indexOf(`\n${next}`);
    if (at >= 0) return `${existing.slice(0, at + 1)}${section}\n\n${existing.slice(at + 1)}`;
  }
  return `${existing.trimEnd()}\n\n${section}\n`;
}
