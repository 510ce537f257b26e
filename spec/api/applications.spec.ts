import { loadApplications, parseApplications, SCOPES } from '../../src/api/applications';

const KEY = 'k'.repeat(16);

describe('applications from API_KEYS and API_KEYS_FILE', () => {
  it('gives every scope to name:key and only the listed ones to name:key:scope+scope', () => {
    const apps = loadApplications(`crm:${KEY}1, shop:${KEY}2:push+stats`, undefined, () => '');
    expect(apps.map((a) => [a.name, [...a.scopes].sort()])).toEqual([
      ['crm', [...SCOPES].sort()],
      ['shop', ['push', 'stats']],
    ]);
  });

  it('reads a keys file, one entry a line, skipping blank lines and comments', () => {
    const file = `# the applications\n\nbilling:${KEY}3:users   # account management\n`;
    const apps = loadApplications(`crm:${KEY}1`, '/etc/keys', (path) => (path === '/etc/keys' ? file : ''));
    expect(apps.map((a) => a.name)).toEqual(['crm', 'billing']);
  });

  it('names every bad entry by its place, never showing a key', () => {
    const { problems, applications } = parseApplications([
      { text: 'short:abc', where: 'API_KEYS entry 1' },
      { text: `bad name:${KEY}`, where: 'API_KEYS entry 2' },
      { text: `crm:${KEY}:push+fly`, where: 'API_KEYS entry 3' },
      { text: `dup:${KEY}`, where: 'keys line 4' },
      { text: `dup:${KEY}x`, where: 'keys line 5' },
      { text: `other:${KEY}`, where: 'keys line 6' },
    ]);
    expect(applications.map((a) => a.name)).toEqual(['dup']);
    expect(problems).toEqual([
      expect.stringMatching(/^API_KEYS entry 1: .*at least 16/),
      expect.stringMatching(/^API_KEYS entry 2: /),
      expect.stringMatching(/^API_KEYS entry 3: unknown scope fly/),
      expect.stringMatching(/^keys line 5: .*listed twice/),
      expect.stringMatching(/^keys line 6: .*key of another application/),
    ]);
    expect(problems.join('\n')).not.toContain(KEY);
  });

  it('makes a node refuse to start with a bad entry', () => {
    expect(() => loadApplications('crm:short', undefined, () => '')).toThrow(/invalid API keys/);
  });
});
