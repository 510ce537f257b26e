import { makeJid, normaliseLocal, normaliseResource, parseJid } from '../../src/base/jid';

describe('parseJid splits an address into localpart, domainpart and resourcepart (RFC 7622 §3.1)', () => {
  it('reads local@domain/resource into its three parts, with bare and full forms', () => {
    expect(parseJid('juliet@example.com/balcony')).toEqual({
      local: 'juliet',
      domain: 'example.com',
      resource: 'balcony',
      bare: 'juliet@example.com',
      full: 'juliet@example.com/balcony',
    });
  });

  it('reads a domain-only address with an empty localpart and resourcepart', () => {
    expect(parseJid('example.com')).toEqual({ local: '', domain: 'example.com', resource: '', bare: 'example.com', full: 'example.com' });
  });

  it('splits the resourcepart at the first slash, so the resource may hold further slashes and at-signs', () => {
    const jid = parseJid('juliet@example.com/foo@bar/baz');
    expect(jid?.local).toBe('juliet');
    expect(jid?.domain).toBe('example.com');
    expect(jid?.resource).toBe('foo@bar/baz');
  });

  it('treats an at-sign after the first slash as part of the resource, not as a localpart separator', () => {
    const jid = parseJid('example.com/juliet@example.net');
    expect(jid?.local).toBe('');
    expect(jid?.domain).toBe('example.com');
    expect(jid?.resource).toBe('juliet@example.net');
  });
});

describe('parseJid rejects addresses with an empty part (RFC 7622 §3.1)', () => {
  it.each([
    ['an empty string', ''],
    ['an at-sign with no localpart', '@example.com'],
    ['an at-sign with no domainpart', 'juliet@'],
    ['a slash with no resourcepart', 'juliet@example.com/'],
    ['a slash with no domainpart', '/balcony'],
    ['a domainpart that is only the stripped trailing dot', 'juliet@.'],
  ])('refuses %s', (_what, text) => {
    expect(parseJid(text)).toBeUndefined();
  });
});

describe('the domainpart is case-folded and loses one trailing dot (RFC 7622 §3.2)', () => {
  it('lower-cases the domainpart', () => {
    expect(parseJid('juliet@EXAMPLE.Com')?.domain).toBe('example.com');
  });

  it('strips a single trailing dot, so example.com. and example.com are the same domain', () => {
    expect(parseJid('juliet@example.com./balcony')?.full).toBe('juliet@example.com/balcony');
  });

  it.each([
    ['a space', 'juliet@exa mple.com'],
    ['a control character', 'juliet@exam\u0007ple.com'],
  ])('refuses a domainpart containing %s', (_what, text) => {
    expect(parseJid(text)).toBeUndefined();
  });
});

describe('the localpart is case-folded and width-mapped (RFC 7622 §3.3, UsernameCaseMapped)', () => {
  it('lower-cases ASCII and non-ASCII letters', () => {
    expect(parseJid('Juliet@example.com')?.bare).toBe('juliet@example.com');
    expect(parseJid('ÉLISE@example.com')?.local).toBe('élise');
  });

  it('maps fullwidth characters to their ordinary forms', () => {
    expect(parseJid('ｊｕｌｉｅｔ@example.com')?.local).toBe('juliet');
  });

  it('gives the same address for the same user however the localpart is written', () => {
    expect(parseJid('JULIET@Example.COM/balcony')?.full).toBe(parseJid('juliet@example.com/balcony')?.full);
  });
});

describe('the localpart refuses the characters RFC 7622 §3.3.1 forbids', () => {
  it.each(['"', '&', "'", ':', '<', '>', ' '])('refuses a localpart containing %j', (c) => {
    expect(parseJid(`jul${c}iet@example.com`)).toBeUndefined();
    expect(normaliseLocal(`jul${c}iet`)).toBeUndefined();
  });

  it('refuses a second at-sign (the last one separates the domain, leaving one in the localpart)', () => {
    expect(parseJid('jul@iet@example.com')).toBeUndefined();
  });

  it('refuses a slash in a localpart given on its own', () => {
    expect(normaliseLocal('jul/iet')).toBeUndefined();
  });

  it('refuses control characters in a localpart', () => {
    expect(normaliseLocal('jul\u0000iet')).toBeUndefined();
    expect(normaliseLocal('jul\u001fiet')).toBeUndefined();
  });
});

describe('the resourcepart keeps its case and is NFC-normalised (RFC 7622 §3.4, OpaqueString)', () => {
  it('keeps upper case in the resource', () => {
    expect(parseJid('juliet@example.com/Balcony')?.resource).toBe('Balcony');
  });

  it('composes a decomposed character, so both spellings name the same resource', () => {
    expect(parseJid('juliet@example.com/cafe\u0301')?.resource).toBe('caf\u00e9');
    expect(normaliseResource('cafe\u0301')).toBe(normaliseResource('caf\u00e9'));
  });

  it('accepts spaces inside a resource', () => {
    expect(parseJid('juliet@example.com/my phone')?.resource).toBe('my phone');
  });

  it('refuses control characters in a resource', () => {
    expect(parseJid('juliet@example.com/bal\ncony')).toBeUndefined();
    expect(normaliseResource('bal\u007fcony')).toBeUndefined();
  });
});

describe('each part is at most 1023 bytes of UTF-8 (RFC 7622 §3.2, §3.3, §3.4)', () => {
  const ascii = (n: number): string => 'a'.repeat(n);

  it('accepts a localpart, a domainpart and a resourcepart of exactly 1023 bytes', () => {
    expect(parseJid(`${ascii(1023)}@example.com`)).toBeDefined();
    expect(parseJid(ascii(1023))).toBeDefined();
    expect(parseJid(`juliet@example.com/${ascii(1023)}`)).toBeDefined();
  });

  it('refuses any part of 1024 bytes', () => {
    expect(parseJid(`${ascii(1024)}@example.com`)).toBeUndefined();
    expect(parseJid(ascii(1024))).toBeUndefined();
    expect(parseJid(`juliet@example.com/${ascii(1024)}`)).toBeUndefined();
  });

  it('counts bytes, not characters: 512 two-byte characters are too long', () => {
    expect(parseJid(`juliet@example.com/${'é'.repeat(511)}`)).toBeDefined();
    expect(parseJid(`juliet@example.com/${'é'.repeat(512)}`)).toBeUndefined();
  });
});

describe('makeJid builds the bare and full forms from its parts', () => {
  it('omits the resource from the full form when there is none', () => {
    expect(makeJid('romeo', 'example.net').full).toBe('romeo@example.net');
  });

  it('omits the at-sign for a domain-only address', () => {
    expect(makeJid('', 'example.net', 'res')).toMatchObject({ bare: 'example.net', full: 'example.net/res' });
  });
});
