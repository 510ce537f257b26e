/**
 * RFC 6121 §8.5: where a stanza addressed to a local user goes. Pure: decided from the stanza's
 * kind and type, the addressed resource and that user's online resources.
 */
export interface CandidateResource {
  readonly resource: string;
  /** Has sent initial presence and not yet unavailable. */
  readonly available: boolean;
  readonly priority: number;
}

export type Delivery<R> =
  | { readonly kind: 'deliver'; readonly to: readonly R[] }
  /** No resource can take it: store for later (offline storage), or bounce if there is none. */
  | { readonly kind: 'offline' }
  | { readonly kind: 'bounce'; readonly condition: 'service-unavailable' }
  /** Handled by the server on behalf of the account (an iq to a bare JID, RFC 6120 §10.5.4). */
  | { readonly kind: 'account' }
  | { readonly kind: 'drop' };

export type StanzaKind = 'message' | 'presence' | 'iq';

const bounce = { kind: 'bounce', condition: 'service-unavailable' } as const;
const drop = { kind: 'drop' } as const;

export function decideDelivery<R extends CandidateResource>(
  kind: StanzaKind,
  type: string | undefined,
  resource: string,
  accountExists: boolean,
  resources: readonly R[],
): Delivery<R> {
  if (!accountExists) {
    // §8.5.1: no such account.
    if (kind === 'presence') return drop;
    if (type === 'error' || type === 'result') return drop;
    return bounce;
  }
  if (resource !== '') {
    const match = resources.find((r) => r.resource === resource);
    if (match) return { kind: 'deliver', to: [match] };
    // §8.5.3.2: no such resource.
    if (kind === 'iq') return type === 'get' || type === 'set' ? bounce : drop;
    if (kind === 'presence') return drop;
    // §8.5.3.2.1: only a chat message falls back to the bare JID; normal (or no type), groupchat and
    // headline are answered with an error or ignored, never handed to another resource.
    if (type === 'error' || type === 'headline') return drop;
    if (type !== 'chat') return bounce;
  }
  if (kind === 'iq') return type === 'get' || type === 'set' ? { kind: 'account' } : drop;
  if (kind === 'presence') {
    // §8.5.2.1.2: presence goes to every available resource; priority only steers messages (§4.7.2.3).
    const online = resources.filter((r) => r.available);
    return online.length > 0 ? { kind: 'deliver', to: online } : drop;
  }
  const available = resources.filter((r) => r.available && r.priority >= 0);
  // Messages to the bare JID, §8.5.2.
  switch (type) {
    case 'groupchat':
      return bounce;
    case 'error':
      return drop;
    case 'headline':
      return available.length > 0 ? { kind: 'deliver', to: available } : drop;
    default: {
      // normal and chat: the available resources of the highest priority.
      if (available.length === 0) return { kind: 'offline' };
      const top = Math.max(...available.map((r) => r.priority));
      return { kind: 'deliver', to: available.filter((r) => r.priority === top) };
    }
  }
}
