import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * The proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES): single addresses and CIDR
 * ranges (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6), matched by node:net's BlockList, which
 * also matches an IPv4 rule against the IPv4-mapped IPv6 form a dual-stack socket reports.
 */

type Entry =
  | { readonly kind: 'address'; readonly address: string; readonly family: 'ipv4' | 'ipv6' }
  | { readonly kind: 'range'; readonly network: string; readonly prefix: number; readonly family: 'ipv4' | 'ipv6' };

function parseEntry(text: string): Entry | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  if (slash < 0) return { kind: 'address', address, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { kind: 'range', network: address, prefix, family };
}

/** The entries that are neither an IP address nor a CIDR range (what configuration refuses). */
export function invalidProxyEntries(entries: readonly string[]): string[] {
  return entries.filter((entry) => parseEntry(entry) === undefined);
}

/** The matcher for valid entries (invalid ones were refused by the configuration; they are skipped). */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of entries) {
    const entry = parseEntry(text);
    if (entry?.kind === 'address') list.addAddress(entry.address, entry.family);
    else if (entry?.kind === 'range') list.addSubnet(entry.network, entry.prefix, entry.family);
  }
  return list;
}

// BlockList.check builds a SocketAddress per call (a few µs on every request); peers repeat (a few
// proxies, or the same clients), so answers are remembered per list, in a bounded map.
const MAX_REMEMBERED_ANSWERS = 4096;
const answers = new WeakMap<BlockList, Map<string, boolean>>();

/** Whether `address` (as a socket or a header gives it) is one of the trusted proxies. */
export function isTrustedProxy(list: BlockList, address: string): boolean {
  let known = answers.get(list);
  if (!known) {
    known = new Map();
    answers.set(list, known);
  }
  const remembered = known.get(address);
  if (remembered !== undefined) return remembered;
  const answer = checkAddress(list, address);
  if (known.size >= MAX_REMEMBERED_ANSWERS) known.clear();
  known.set(address, answer);
  return answer;
}

function checkAddress(list: BlockList, address: string): boolean {
  if (isIPv4(address)) return list.check(address, 'ipv4');
  // A zone id (fe80::1%eth0) names the local link, not a different host.
  const bare = address.split('%')[0] as string;
  return isIPv6(bare) && list.check(bare, 'ipv6');
}
