import type { Resource } from './resource';

/** A stanza forwarded between nodes more often than this is stored or bounced instead (stale routes). */
export const MAX_HOPS = 2;

/** Past the hop limit remote routes are not trusted: only this node's resources count. */
export function usableResources<R extends Pick<Resource, 'node'>>(resources: readonly R[], hops: number, node: string): readonly R[] {
  return hops >= MAX_HOPS ? resources.filter((r) => r.node === node) : resources;
}
