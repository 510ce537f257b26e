import type { BusMessage } from './route-table';

export type BusMessageKind = BusMessage['kind'];

/** Every kind of bus message this release reads; each node announces its list (cluster/membership.ts). */
export const BUS_MESSAGE_KINDS: readonly BusMessageKind[] = ['deliver', 'fanout', 'replace', 'end'];

/**
 * What a node that announces nothing reads: a release from before the announcement, which had no
 * 'fanout'. A node whose announcement is missing for a moment (a Redis restart lost it) is taken for
 * one too, which only costs it a 'deliver' per recipient.
 */
export const UNANNOUNCED_BUS_KINDS: readonly BusMessageKind[] = ['deliver', 'replace', 'end'];

/** A node's announcement as kept in Redis: the kinds, space-separated. */
export function busKindsAnnouncement(kinds: readonly string[] = BUS_MESSAGE_KINDS): string {
  return kinds.join(' ');
}

/** The kinds a node reads, from its announcement (null or empty: a node of an older release). */
export function announcedBusKinds(announcement: string | null | undefined): ReadonlySet<string> {
  const kinds = (announcement ?? '').split(' ').filter((kind) => kind !== '');
  return new Set(kinds.length > 0 ? kinds : UNANNOUNCED_BUS_KINDS);
}

/** Whether this release reads a message of this kind (one written by a newer release may not be). */
export function isKnownBusMessage(message: { readonly kind?: unknown }): message is BusMessage {
  return typeof message.kind === 'string' && (BUS_MESSAGE_KINDS as readonly string[]).includes(message.kind);
}
