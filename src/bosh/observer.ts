import type { TerminalCondition } from './conditions';

/** What the transport reports as it works; metrics implement it, tests may ignore it. */
export interface BoshObserver {
  /** A request got its response after `seconds`; condition set for terminal answers. */
  responded(status: number, condition: TerminalCondition | undefined, recoverable: boolean, seconds: number): void;
  /** Stanzas left in a response `seconds` after they were queued for the session. */
  delivered(count: number, seconds: number): void;
  sessionOpened(): void;
  sessionClosed(reason: string): void;
}

export const silentObserver: BoshObserver = {
  responded: () => undefined,
  delivered: () => undefined,
  sessionOpened: () => undefined,
  sessionClosed: () => undefined,
};
