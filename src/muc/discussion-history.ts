import type { Element } from 'ltx';

/** XEP-0045 §7.2.15: what a newcomer asked for with <history/>, each limit optional. */
export interface HistoryRequest {
  readonly maxStanzas?: number;
  readonly maxChars?: number;
  /** Only messages of the last this many seconds. */
  readonly seconds?: number;
  /** Only messages sent after this instant. */
  readonly since?: Date;
}

/** Reads <history/> from the <x xmlns='…muc'/> of a join; limits that are not numbers are ignored. */
export function historyRequest(history: Element | undefined): HistoryRequest {
  if (!history) return {};
  const count = (name: string): number | undefined => {
    const text = history.attrs[name] as string | undefined;
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  };
  const sinceText = history.attrs.since as string | undefined;
  const since = sinceText ? new Date(sinceText) : undefined;
  return {
    maxStanzas: count('maxstanzas'),
    maxChars: count('maxchars'),
    seconds: count('seconds'),
    since: since && !Number.isNaN(since.getTime()) ? since : undefined,
  };
}

/** The earliest time a message may have to be sent as history, from `seconds` and `since`. */
export function historyStart(request: HistoryRequest, now: number): Date | undefined {
  const bySeconds = request.seconds !== undefined ? now - request.seconds * 1000 : undefined;
  const bySince = request.since?.getTime();
  const candidates = [bySeconds, bySince].filter((t): t is number => t !== undefined);
  return candidates.length > 0 ? new Date(Math.max(...candidates)) : undefined;
}

/**
 * XEP-0045 §7.2.15: the newest messages that fit every limit — the room's history length, the
 * newcomer's maxstanzas, and maxchars (counted over the whole stanzas as sent) — oldest first.
 * `messages` are the candidates oldest first, already after the start time.
 */
export function pickHistory<M>(messages: readonly M[], request: HistoryRequest, historyLength: number, size: (m: M) => number): M[] {
  const most = Math.min(historyLength, request.maxStanzas ?? historyLength);
  const picked: M[] = [];
  let chars = 0;
  for (let i = messages.length - 1; i >= 0 && picked.length < most; i--) {
    const message = messages[i] as M;
    chars += size(message);
    if (request.maxChars !== undefined && chars > request.maxChars) break;
    picked.push(message);
  }
  return picked.reverse();
}
