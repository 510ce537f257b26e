import { randomBytes } from 'node:crypto';
import type { ResourceConflictPolicy } from '../../base/resource-conflict';
import { normaliseResource } from '../../base/jid';
import { StanzaError } from '../../base/stanza-error';

/** The resource a bind gets, and whether it takes over one in use (the router then closes the older session). */
export type ResourceChoice = { readonly resource: string; readonly replacing: boolean };

/**
 * RFC 6120 §7.6 and §7.7: the resource for a bind request. None asked for: one is generated; one
 * asked for is normalised (RFC 7622 §3.4); one in use follows the conflict policy (§7.7.2.2).
 */
export function chooseResource(requested: string | null, inUse: (resource: string) => boolean, policy: ResourceConflictPolicy): ResourceChoice | StanzaError {
  let resource: string;
  if (requested === null || requested.trim() === '') {
    resource = generatedResource();
  } else {
    const normalised = normaliseResource(requested);
    if (normalised === undefined) return new StanzaError('bad-request', 'invalid resource');
    resource = normalised;
  }
  if (!inUse(resource)) return { resource, replacing: false };
  switch (policy) {
    case 'refuse':
      return new StanzaError('conflict', 'resource in use');
    case 'override':
      return { resource: `${resource}-${generatedResource().slice(0, 6)}`, replacing: false };
    case 'replace':
      return { resource, replacing: true };
  }
}

function generatedResource(): string {
  return randomBytes(8).toString('hex');
}
