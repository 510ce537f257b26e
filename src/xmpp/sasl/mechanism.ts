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
  /** The account the client tried, when known (counted for brute-force protection). */
  readonly username?: string;
};

export type SaslStep =
  | { readonly kind: 'challenge'; readonly data: Buffer }
  | { readonly kind: 'success'; readonly username: string; readonly data?: Buffer }
  | SaslFailure;

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

/** Says whether logins to an account are allowed right now (brute-force protection). */
export type AccountGuard = (username: string) => boolean;

export const LOCKED_OUT = 'too many failed attempts; try again later';
