import type { ArchiveRetention } from '../archive-store';
import type { ArchiveRecord } from './archive-writes';
import { prepareArchiveWrites } from './archive-writes';
import type { SqliteDatabase } from './database';

/**
 * Who runs the archive's write transactions for SqliteArchiveStore: the node's main thread
 * (inThreadArchiveWriter) or a thread of its own (src/store/sqlite/threaded-archive-writer.ts).
 * Every call is one transaction, done in the order called; its promise settles when it is committed.
 */
export interface ArchiveWriter {
  write(records: readonly ArchiveRecord[]): Promise<void>;
  /** One batch of the age sweep: rows older than `cutoff` (ms) dropped, how many. */
  prune(cutoff: number): Promise<number>;
  deleteOwner(owner: string): Promise<void>;
  /** Settles once everything called before is done; the writer takes nothing after. */
  close(): Promise<void>;
}

/** Writes on the caller's thread, at once: each promise is settled when the call returns. */
export function inThreadArchiveWriter(db: SqliteDatabase, retention: ArchiveRetention): ArchiveWriter {
  const writes = prepareArchiveWrites(db, retention);
  const run = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    write: (records) => run(() => writes.writeBatch(records)),
    prune: (cutoff) => run(() => writes.pruneBatch(cutoff)),
    deleteOwner: (owner) => run(() => writes.deleteOwner(owner)),
    close: async () => undefined,
  };
}
