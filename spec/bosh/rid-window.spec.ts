import { classifyRid, parseRid } from '../../src/bosh/rid-window';
import { KeySequence } from '../../src/bosh/key-sequence';
import { createHash } from 'node:crypto';

describe('XEP-0124 §14 the rid window', () => {
  it('classifies rids around the last processed one with requests=2', () => {
    expect(classifyRid(100, 100, 2)).toBe('repeat');
    expect(classifyRid(99, 100, 2)).toBe('repeat');
    expect(classifyRid(101, 100, 2)).toBe('next');
    expect(classifyRid(102, 100, 2)).toBe('ahead');
    expect(classifyRid(103, 100, 2)).toBe('out-of-window');
  });

  it('parses rids up to 2^53-1 only (§14.1)', () => {
    expect(parseRid('9007199254740991')).toBe(9007199254740991);
    expect(parseRid('9007199254740992')).toBeUndefined();
    expect(parseRid('-1')).toBeUndefined();
    expect(parseRid('1.5')).toBeUndefined();
    expect(parseRid(undefined)).toBeUndefined();
  });
});

describe('XEP-0124 §15 key sequences', () => {
  const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
  // K(n) = sha1(K(n-1)); the client sends them in reverse.
  const k0 = 'seed';
  const k1 = sha1(k0);
  const k2 = sha1(k1);
  const k3 = sha1(k2);

  it('accepts each key whose hash is the previous one, case-insensitively', () => {
    const keys = new KeySequence(k3.toUpperCase());
    expect(keys.accept(k2, undefined)).toBe(true);
    expect(keys.accept(k1, undefined)).toBe(true);
    expect(keys.accept(k0, undefined)).toBe(true);
  });

  it('refuses a missing or wrong key', () => {
    const keys = new KeySequence(k3);
    expect(keys.accept(undefined, undefined)).toBe(false);
    expect(new KeySequence(k3).accept(k1, undefined)).toBe(false);
  });

  it('switches to a new sequence on newkey (§15.5)', () => {
    const keys = new KeySequence(k1);
    expect(keys.accept(k0, 'abc' + k3)).toBe(true);
    expect(keys.accept(k2, undefined)).toBe(false);
  });

  it('asks nothing of a session without keys', () => {
    expect(new KeySequence(undefined).accept(undefined, undefined)).toBe(true);
  });
});
