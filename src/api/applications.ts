/**
 * The applications allowed to call the API and what each may do. One entry per application:
 * `name:key` (every operation) or `name:key:scope+scope` (only those), from API_KEYS (entries
 * separated by commas) and API_KEYS_FILE (one entry a line, `#` starts a comment).
 */

/** What an application may be allowed to do; each endpoint needs one (docs/api.md). */
export const SCOPES = ['users', 'tokens', 'sessions', 'push', 'stats', 'webhooks', 'groups', 'history'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Application {
  readonly name: string;
  /** The bearer key; compared in constant time (authentication.ts) and never logged. */
  readonly key: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** Keys shorter than this are refused: a bearer key is the whole credential. */
export const MIN_KEY_LENGTH = 16;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const KEY = /^[\x21-\x7e]+$/;

export interface ParsedApplications {
  readonly applications: readonly Application[];
  /** Each bad entry, described without its key. */
  readonly problems: readonly string[];
}

/** Parses entries (already split); `where` names their source in problems (API_KEYS, or the file and line). */
export function parseApplications(entries: ReadonlyArray<{ readonly text: string; readonly where: string }>): ParsedApplications {
  const applications: Application[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const { text, where } of entries) {
    const [name = '', key = '', scopeText, ...rest] = text.split(':');
    if (rest.length > 0 || !NAME.test(name)) {
      problems.push(`${where}: expected name:key or name:key:scope+scope, the name of letters, digits, '.', '_' or '-'`);
      continue;
    }
    if (!KEY.test(key) || key.length < MIN_KEY_LENGTH) {
      problems.push(`${where}: the key of '${name}' must be at least ${MIN_KEY_LENGTH} printable characters without spaces or ':'`);
      continue;
    }
    const scopes = scopeText === undefined || scopeText === '*' ? new Set<Scope>(SCOPES) : new Set(scopeText.split('+') as Scope[]);
    const unknown = [...scopes].filter((s) => !SCOPES.includes(s));
    if (unknown.length > 0) {
      problems.push(`${where}: unknown scope ${unknown.join(', ')} for '${name}' (known: ${SCOPES.join(', ')}, or * for all)`);
      continue;
    }
    if (names.has(name)) {
      problems.push(`${where}: the application '${name}' is listed twice`);
      continue;
    }
    if (keys.has(key)) {
      problems.push(`${where}: '${name}' uses the key of another application`);
      continue;
    }
    names.add(name);
    keys.add(key);
    applications.push({ name, key, scopes });
  }
  return { applications, problems };
}

/** API_KEYS: entries separated by commas. */
export function entriesOfList(list: string): Array<{ text: string; where: string }> {
  return list
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map((text, index) => ({ text, where: `API_KEYS entry ${index + 1}` }));
}

/** API_KEYS_FILE: one entry a line; blank lines and `#` comments are skipped. */
export function entriesOfFile(content: string, file: string): Array<{ text: string; where: string }> {
  return content
    .split(/\r?\n/)
    .map((line, index) => ({ text: line.replace(/#.*$/, '').trim(), where: `${file} line ${index + 1}` }))
    .filter((entry) => entry.text !== '');
}

/**
 * The applications of API_KEYS and API_KEYS_FILE (read once, at start); throws listing every bad
 * entry, so a node with a mistyped key does not start.
 */
export function loadApplications(keys: string | undefined, keysFile: string | undefined, readFile: (path: string) => string): Application[] {
  const entries = [...(keys === undefined ? [] : entriesOfList(keys)), ...(keysFile === undefined ? [] : entriesOfFile(readFile(keysFile), keysFile))];
  const { applications, problems } = parseApplications(entries);
  if (problems.length > 0) throw new Error(`invalid API keys:\n  - ${problems.join('\n  - ')}`);
  return [...applications];
}
