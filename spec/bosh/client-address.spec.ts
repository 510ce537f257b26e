import type { IncomingMessage } from 'node:http';
import { clientAddress } from '../../src/bosh/http-adapter';
import { invalidProxyEntries, trustedProxyList } from '../../src/bosh/trusted-proxies';

/** A request as the adapter sees it: the socket's peer and the X-Forwarded-For header. */
function request(peer: string | undefined, forwardedFor?: string | string[]): Pick<IncomingMessage, 'socket' | 'headers'> {
  return { socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as Pick<
    IncomingMessage,
    'socket' | 'headers'
  >;
}

describe('clientAddress believes X-Forwarded-For only from trusted proxies', () => {
  it('takes the socket peer when no proxy is trusted, whatever the header says', () => {
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), undefined)).toBe('203.0.113.9');
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), trustedProxyList([]))).toBe('203.0.113.9');
  });

  it('takes the nearest untrusted hop when the peer is in a trusted IPv4 range', () => {
    const trusted = trustedProxyList(['10.0.0.0/8', '172.16.0.0/12']);
    expect(clientAddress(request('172.20.0.5', '198.51.100.1'), trusted)).toBe('198.51.100.1');
    // Proxies of our own appended the rightmost hops; what the client wrote on the left is not believed.
    expect(clientAddress(request('10.1.2.3', '192.0.2.66, 198.51.100.1, 10.9.9.9'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(request('10.1.2.3', ['192.0.2.66', '198.51.100.1']), trusted)).toBe('198.51.100.1');
  });

  it('does not trust a peer just outside the range', () => {
    const trusted = trustedProxyList(['172.16.0.0/12']);
    expect(clientAddress(request('172.32.0.1', '198.51.100.1'), trusted)).toBe('172.32.0.1');
  });

  it('matches IPv6 ranges, and IPv4 rules against the IPv4-mapped form a dual-stack socket reports', () => {
    const trusted = trustedProxyList(['fd00::/8', '192.0.2.10']);
    expect(clientAddress(request('fd12:3456::1', '2001:db8::7'), trusted)).toBe('2001:db8::7');
    expect(clientAddress(request('::ffff:192.0.2.10', '198.51.100.1'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(request('fe80::1', '198.51.100.1'), trusted)).toBe('fe80::1');
  });

  it('reports an IPv4-mapped peer or hop as plain IPv4', () => {
    expect(clientAddress(request('::ffff:203.0.113.9'), undefined)).toBe('203.0.113.9');
    const trusted = trustedProxyList(['10.0.0.1']);
    expect(clientAddress(request('10.0.0.1', '::ffff:198.51.100.1'), trusted)).toBe('198.51.100.1');
  });

  it('falls back to the leftmost hop when every hop is trusted, and to the peer when there is no header', () => {
    const trusted = trustedProxyList(['10.0.0.0/8']);
    expect(clientAddress(request('10.0.0.1', '10.0.0.2, 10.0.0.3'), trusted)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.1'), trusted)).toBe('10.0.0.1');
  });
});

describe('TRUSTED_PROXIES entries', () => {
  it('accepts addresses and CIDR ranges of both families', () => {
    expect(invalidProxyEntries(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/32', '::/0', '::ffff:10.0.0.0/104'])).toEqual([]);
  });

  it('refuses what is neither', () => {
    expect(invalidProxyEntries(['nginx', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '10.0.0.0/ 8', 'fe80::1%eth0'])).toEqual([
      'nginx',
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '10.0.0.0/-1',
      '10.0.0.0/ 8',
      'fe80::1%eth0',
    ]);
  });
});
