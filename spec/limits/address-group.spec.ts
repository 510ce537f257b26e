import { addressGroup, normaliseAddress } from '../../src/limits/address-group';

describe('addressGroup: which addresses count as one client for per-address limits', () => {
  it('counts an IPv4 address as itself', () => {
    expect(addressGroup('192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('192.0.2.2')).not.toBe(addressGroup('192.0.2.1'));
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const group = '2001:db8:1:2::/64';
    expect(addressGroup('2001:db8:1:2::1')).toBe(group);
    expect(addressGroup('2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd')).toBe(group);
    expect(addressGroup('2001:db8:1:2:0:0:0:ffff')).toBe(group);
    expect(addressGroup('2001:db8:1:2::1%eth0')).toBe(group);
    expect(addressGroup('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });

  it('expands :: wherever it stands', () => {
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('::')).toBe('0:0:0:0::/64');
    expect(addressGroup('fe80::')).toBe('fe80:0:0:0::/64');
    expect(addressGroup('2001:db8::1:2:3:4')).toBe('2001:db8:0:0::/64');
  });

  it('treats IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) as the IPv4 address, dotted or in hex', () => {
    expect(addressGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(addressGroup('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
    // Not mapped: an IPv4-compatible or translated prefix is an IPv6 address.
    expect(addressGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('keeps text that is not an address as it is, bounded in length', () => {
    expect(addressGroup('unknown')).toBe('unknown');
    expect(addressGroup('x'.repeat(1000))).toHaveLength(100);
    expect(addressGroup(undefined)).toBeUndefined();
  });
});

describe('normaliseAddress', () => {
  it('drops the zone id, lower-cases, and unmaps IPv4-mapped addresses', () => {
    expect(normaliseAddress('FE80::1%eth0')).toBe('fe80::1');
    expect(normaliseAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});
