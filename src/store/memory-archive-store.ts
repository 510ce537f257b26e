import { archiveIdOf } from './archive-ids';
import type {
  ArchiveBounds,
  ArchivedMessage,
  ArchiveEntry,
  ArchivePage,
  ArchiveQuery,
  ArchiveReceipt,
  ArchiveRetention,
  ArchiveStore,
  UnknownArchiveId,
} from './archive-store';

/** Messages the memory backend keeps per owner at most, whatever the retention says: memory is not a disk. */
export const MEMORY_ARCHIVE_CAP = 10_000;

/**
 * The archive in this process only (tests, STORAGE=memory): each owner's messages in an array in
 * archive order, bounded by the retention count and by MEMORY_ARCHIVE_CAP.
 */
export class MemoryArchiveStore implements ArchiveStore {
  private readonly seqs = new Map<string, number>();
  private readonly archives = new Map<string, ArchivedMessage[]>();
  private readonly maxPerOwner: number;

  constructor(
    private readonly retention: ArchiveRetention,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.maxPerOwner = retention.maxPerOwner > 0 ? Math.min(retention.maxPerOwner, MEMORY_ARCHIVE_CAP) : MEMORY_ARCHIVE_CAP;
  }

  async append(entry: ArchiveEntry): Promise<ArchiveReceipt> {
    const seq = (this.seqs.get(entry.conversation) ?? 0) + 1;
    this.seqs.set(entry.conversation, seq);
    const receipt: ArchiveReceipt = { conversation: entry.conversation, seq, archiveId: archiveIdOf(entry.conversation, seq), ts: entry.ts ?? this.now() };
    for (const copy of entry.copies) {
      const archive = this.archives.get(copy.owner) ?? [];
      archive.push({
        ...receipt,
        owner: copy.owner,
        with: copy.with,
        from: entry.from,
        to: entry.to,
        type: entry.type,
        stanza: entry.stanza,
        ...(entry.originId === undefined ? {} : { originId: entry.originId }),
        ...(entry.body === undefined ? {} : { body: entry.body }),
      });
      if (archive.length > this.maxPerOwner) archive.splice(0, archive.length - this.maxPerOwner);
      this.archives.set(copy.owner, archive);
    }
    return receipt;
  }

  async query(query: ArchiveQuery): Promise<ArchivePage | UnknownArchiveId> {
    const archive = this.archives.get(query.owner) ?? [];
    const positions = new Map(archive.map((m, i) => [m.archiveId, i]));
    for (const id of [query.afterId, query.beforeId, query.after, query.before]) {
      if (id && !positions.has(id)) return { unknownId: id };
    }
    const at = (id: string | undefined, otherwise: number): number => (id ? (positions.get(id) ?? otherwise) : otherwise);
    const ids = query.ids && new Set(query.ids);
    const matches = (m: ArchivedMessage): boolean =>
      (query.with === undefined || m.with === query.with) &&
      (query.start === undefined || m.ts >= query.start) &&
      (query.end === undefined || m.ts <= query.end) &&
      (ids === undefined || ids.has(m.archiveId));
    // The form's after-id/before-id narrow the results (and the count); RSM after/before choose the page.
    const results = archive.slice(at(query.afterId, -1) + 1, Math.max(0, at(query.beforeId, archive.length))).filter(matches);
    const lower = Math.max(at(query.afterId, -1), at(query.after, -1));
    const upper = Math.min(at(query.beforeId, archive.length), at(query.before, archive.length));
    const inPage = archive.slice(lower + 1, Math.max(lower + 1, upper)).filter(matches);
    const backward = query.before !== undefined;
    const messages = backward ? inPage.slice(Math.max(0, inPage.length - query.limit)) : inPage.slice(0, query.limit);
    return { messages, complete: inPage.length <= query.limit, count: results.length };
  }

  async since(owner: string, conversation: string, afterSeq: number, limit: number): Promise<ArchivedMessage[]> {
    const archive = this.archives.get(owner) ?? [];
    return archive.filter((m) => m.conversation === conversation && m.seq > afterSeq).slice(0, limit);
  }

  async lastSeq(conversation: string): Promise<number> {
    return this.seqs.get(conversation) ?? 0;
  }

  async bounds(owner: string): Promise<ArchiveBounds> {
    const archive = this.archives.get(owner) ?? [];
    const first = archive[0];
    const last = archive[archive.length - 1];
    return {
      ...(first ? { first: { archiveId: first.archiveId, ts: first.ts } } : {}),
      ...(last ? { last: { archiveId: last.archiveId, ts: last.ts } } : {}),
    };
  }

  async prune(now: Date): Promise<number> {
    if (this.retention.maxAgeMs <= 0) return 0;
    const cutoff = now.getTime() - this.retention.maxAgeMs;
    let dropped = 0;
    for (const [owner, archive] of this.archives) {
      const kept = archive.filter((m) => m.ts.getTime() >= cutoff);
      dropped += archive.length - kept.length;
      if (kept.length === 0) this.archives.delete(owner);
      else this.archives.set(owner, kept);
    }
    return dropped;
  }

  async deleteOwner(owner: string): Promise<void> {
    this.archives.delete(owner);
  }

  /** Nothing pending: every append is kept at once. */
  async flush(): Promise<void> {}
}
