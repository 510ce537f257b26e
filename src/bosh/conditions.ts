/** XEP-0124 §17.2 terminal binding conditions. */
export type TerminalCondition =
  | 'bad-request'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'item-not-found'
  | 'other-request'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'remote-stream-error'
  | 'see-other-uri'
  | 'system-shutdown'
  | 'undefined-condition';

/** XEP-0124 §17.1: the HTTP status a legacy client (one that sent no 'ver') gets instead. */
export function legacyHttpStatus(condition: TerminalCondition): number {
  switch (condition) {
    case 'bad-request':
      return 400;
    case 'policy-violation':
      return 403;
    case 'item-not-found':
      return 404;
    default:
      return 200;
  }
}

/** A broken BOSH rule, carrying its terminal condition; rendered once, by the transport. */
export class BoshError extends Error {
  constructor(
    readonly condition: TerminalCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'BoshError';
  }
}
