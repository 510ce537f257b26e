import type { z } from 'zod';
import { archiveIdOf, conversationHash, parseArchiveId } from '../store/archive-ids';
import type { ArchivedMessage, ArchivePage, ArchiveStore, UnknownArchiveId } from '../store/archive-store';
import { ApiError } from './api-error';
import type { HistoryMessage, HistoryPage } from './history-schemas';

/** Whose history: one owner's archive, narrowed to one conversation (a group, a user with one contact) or not. */
export interface HistoryScope {
  /** The archive's owner: a user's bare JID, or a room's JID. */
  readonly owner: string;
  /** The conversation, when one: sequence numbers are per conversation, so `after=42` needs one. */
  readonly conversation?: string;
  /** The copies' `with` to keep (a user's contact). */
  readonly with?: string;
}

export interface HistoryRequest {
  readonly after?: string;
  readonly before?: string;
  readonly limit: number;
}

type Page = z.infer<typeof HistoryPage>;

function rendered(message: ArchivedMessage): z.infer<typeof HistoryMessage> {
  return {
    seq: message.seq,
    id: message.archiveId,
    ts: message.ts.toISOString(),
    from: message.from,
    to: message.to,
    with: message.with,
    type: message.type,
    body: message.body ?? null,
    stanza: message.stanza,
  };
}

function pageOf(messages: readonly ArchivedMessage[], direction: Page['direction'], complete: boolean): Page {
  return {
    messages: messages.map(rendered),
    first: messages[0]?.archiveId ?? null,
    last: messages[messages.length - 1]?.archiveId ?? null,
    direction,
    complete,
  };
}

/**
 * The history endpoints' reading of the archive, with the archive store's own queries (the ones MAM
 * uses): "everything after N" of one conversation is `since` (an N whose message retention dropped
 * still works: the sync goes on from the next one); the rest is a XEP-0313 query with RSM paging.
 */
export class HistoryReader {
  constructor(private readonly archive: ArchiveStore) {}

  async page(scope: HistoryScope, request: HistoryRequest): Promise<Page> {
    const after = request.after === undefined ? undefined : this.position(scope, request.after, 'after');
    const before = request.before === undefined ? undefined : this.position(scope, request.before, 'before');
    if (before === 0) throw new ApiError('invalid_parameter', 'before: there is nothing before 0', 'before');
    const { owner, conversation } = scope;
    const { limit } = request;
    if (after !== undefined && conversation !== undefined) {
      // One more than the page tells whether the page reaches the newest message.
      const seq = after === 0 ? 0 : (parseArchiveId(after)?.seq ?? 0);
      const upTo = before === undefined ? undefined : parseArchiveId(before)?.seq;
      const found = await this.archive.since(owner, conversation, seq, limit + 1);
      const kept = upTo === undefined ? found : found.filter((m) => m.seq < upTo);
      return pageOf(kept.slice(0, limit), 'forward', kept.length <= limit);
    }
    if (after !== undefined) {
      const page = this.found(await this.archive.query({ owner, with: scope.with, after: after === 0 ? undefined : after, beforeId: before, limit }));
      return pageOf(page.messages, 'forward', page.complete);
    }
    // The page before `before`, or the latest page (XEP-0059 §2.5: an empty before).
    const page = this.found(await this.archive.query({ owner, with: scope.with, before: before ?? '', limit }));
    return pageOf(page.messages, 'backward', page.complete);
  }

  /** A sequence number (0: before the first) or an archive id, as an archive id of this scope. */
  private position(scope: HistoryScope, text: string, field: 'after' | 'before'): string | 0 {
    if (/^[0-9]+$/.test(text)) {
      const seq = Number(text);
      if (seq === 0) return 0;
      if (scope.conversation === undefined) {
        throw new ApiError('invalid_parameter', `${field}: sequence numbers are per conversation: give with=, or an archive id`, field);
      }
      return archiveIdOf(scope.conversation, seq);
    }
    if (scope.conversation !== undefined && parseArchiveId(text)?.hash !== conversationHash(scope.conversation)) {
      throw new ApiError('invalid_parameter', `${field}: ${text} is not an archive id of this conversation`, field);
    }
    return text;
  }

  private found(page: ArchivePage | UnknownArchiveId): ArchivePage {
    if ('unknownId' in page) throw new ApiError('message_not_found', `no message ${page.unknownId} in this history (dropped by retention, or never there)`);
    return page;
  }
}
