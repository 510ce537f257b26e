import { createHash } from 'node:crypto';

/**
 * Archive ids (src/store/archive-store.ts): `<conversation hash>-<seq>`. The hash is the first 10 hex
 * digits of the conversation key's SHA-256: short and opaque (the id shows no JID), and 40 bits keep
 * two conversations of one owner apart. The sequence number is in decimal after the last '-'.
 */
export function archiveIdOf(conversation: string, seq: number): string {
  return `${conversationHash(conversation)}-${seq}`;
}

/** Conversations hashed lately: a chat's hash is needed for every message, and SHA-256 costs more than a lookup. */
const recentHashes = new Map<string, string>();
const RECENT_HASHES = 10_000;

/** The hash part of a conversation's archive ids. */
export function conversationHash(conversation: string): string {
  let hash = recentHashes.get(conversation);
  if (hash === undefined) {
    hash = createHash('sha256').update(conversation).digest('hex').slice(0, 10);
    // Bounded: when full, start again (the busy conversations come back at once).
    if (recentHashes.size >= RECENT_HASHES) recentHashes.clear();
    recentHashes.set(conversation, hash);
  }
  return hash;
}

/** The sequence number an archive id carries, or undefined for a string that is not an archive id. */
export function seqOfArchiveId(id: string): number | undefined {
  return parseArchiveId(id)?.seq;
}

/** The conversation hash and sequence number of an archive id, or undefined for a string that is not one. */
export function parseArchiveId(id: string): { readonly hash: string; readonly seq: number } | undefined {
  const match = /^([0-9a-f]{10})-([1-9][0-9]{0,15})$/.exec(id);
  if (!match) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { hash: match[1] as string, seq } : undefined;
}
