/** RFC 6120 §6.5 SASL failure conditions this server sends. */
export type SaslFailureCondition =
  | 'aborted'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslFailure = {
  readonly kind: 'failure';
  readonly condition: SaslFailureCondition;
  readonly text?: string;
  /** The account the client tried, when known. */
  readonly username?: string;
};

export type SaslStep =
  { readonly kind: 'challenge'; readonly data: Buffer } | { readonly kind: 'success'; readonly username: string; readonly data?: Buffer } | SaslFailure;

/** One authentication exchange of one mechanism; `respond` is called for each client <response/>. */
export interface SaslExchange {
  start(initial: Buffer | undefined): Promise<SaslStep>;
  respond(data: Buffer): Promise<SaslStep>;
}

export const failure = (condition: SaslFailureCondition, text?: string, username?: string): SaslFailure => ({
  kind: 'failure',
  condition,
  text,
  username,
});

/** How a password check under brute-force protection ended; 'busy': it was not run (src/limits/auth-throttle.ts). */
export type CheckOutcome = 'accepted' | 'refused' | 'busy';

/** Runs one password check for an account, possibly after waiting its turn (brute-force protection). */
export type PasswordGate = (username: string, check: () => boolean | Promise<boolean>) => Promise<CheckOutcome>;

/** No protection: the check runs at once. */
export const ungated: PasswordGate = async (_username, check) => ((await check()) ? 'accepted' : 'refused');

/** RFC 6120 §6.5.11: the attempt was not checked; the same password may well succeed shortly. */
export const BUSY = 'too many login attempts for this account in progress; try again in a few seconds';
