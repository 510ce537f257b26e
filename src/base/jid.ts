/** An XMPP address (RFC 7622), normalised: localpart and domain lower-cased, parts NFC/NFKC-folded. */
export type Jid = {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  /** local@domain (or domain). */
  readonly bare: string;
  /** bare/resource when there is a resource. */
  readonly full: string;
};

// RFC 7622 §3.3.1: characters a localpart may not contain. Finding control characters is what these
// patterns are for, so no-control-regex is off for them.
/* eslint-disable no-control-regex */
const FORBIDDEN_IN_LOCAL = /["&'/:<>@\s\u0000-\u001f\u007f]/;
const FORBIDDEN_IN_DOMAIN = /[\s/@\u0000-\u001f\u007f]/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/* eslint-enable no-control-regex */
const MAX_PART_BYTES = 1023;

export function makeJid(local: string, domain: string, resource = ''): Jid {
  const bare = local ? `${local}@${domain}` : domain;
  return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

function withinLength(part: string): boolean {
  return Buffer.byteLength(part) <= MAX_PART_BYTES;
}

export function normaliseLocal(local: string): string | undefined {
  const folded = local.normalize('NFKC').toLowerCase();
  if (folded === '' || !withinLength(folded) || FORBIDDEN_IN_LOCAL.test(folded)) return undefined;
  return folded;
}

export function normaliseResource(resource: string): string | undefined {
  const folded = resource.normalize('NFC');
  if (folded === '' || !withinLength(folded) || CONTROL.test(folded)) return undefined;
  return folded;
}

/** Parses a JID string; undefined when it is not a valid address. */
export function parseJid(text: string): Jid | undefined {
  const slash = text.indexOf('/');
  const resourcePart = slash >= 0 ? text.slice(slash + 1) : '';
  const barePart = slash >= 0 ? text.slice(0, slash) : text;
  const at = barePart.lastIndexOf('@');
  const localPart = at >= 0 ? barePart.slice(0, at) : '';
  let domain = (at >= 0 ? barePart.slice(at + 1) : barePart).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain === '' || !withinLength(domain) || FORBIDDEN_IN_DOMAIN.test(domain)) return undefined;
  let local = '';
  if (at >= 0) {
    const normalised = normaliseLocal(localPart);
    if (normalised === undefined) return undefined;
    local = normalised;
  }
  let resource = '';
  if (slash >= 0) {
    const normalised = normaliseResource(resourcePart);
    if (normalised === undefined) return undefined;
    resource = normalised;
  }
  return makeJid(local, domain, resource);
}
