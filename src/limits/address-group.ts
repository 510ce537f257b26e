import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which addresses count as one client for per-address limits. An IPv4 address is one client. An
 * IPv6 client is its /64: RFC 4291 §2.5.4 gives every link a /64 and RFC 8981 lets a host draw a
 * new interface identifier whenever it likes, so one machine owns 2^64 addresses and counting them
 * apart would give it 2^64 budgets. IPv4-mapped IPv6 (RFC 4291 §2.5.5.2, what a dual-stack socket
 * reports for an IPv4 peer) is the IPv4 address it carries.
 */

/** Longest non-IP text kept as a group (a proxy's odd X-Forwarded-For entry): bounded keys. */
const MAX_OTHER = 100;

/** The eight 16-bit groups of an IPv6 address, or undefined when the text is not one. */
function hextets(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address;
  // A dotted IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const front = parse(head);
  if (rest === undefined) return front;
  const back = parse(rest);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The address as limits compare it: zone id dropped, IPv4-mapped IPv6 as plain IPv4, lower case. */
export function normaliseAddress(address: string): string {
  // An IPv4 address (the common case) has nothing to normalise: skip the IPv6 parse on the hot path.
  if (!address.includes(':')) return address;
  const text = address.split('%')[0]?.toLowerCase() ?? '';
  const groups = hextets(text);
  if (groups && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return text;
}

/**
 * The key per-address limits count under: an IPv4 address itself, an IPv6 address's /64 prefix
 * (written `2001:db8:1:2::/64`), anything else (not an IP) as given, shortened.
 */
export function addressGroup(address: string): string;
export function addressGroup(address: string | undefined): string | undefined;
export function addressGroup(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const normal = normaliseAddress(address);
  if (isIPv4(normal)) return normal;
  const groups = hextets(normal);
  if (groups)
    return `${groups
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/64`;
  return address.slice(0, MAX_OTHER);
}
