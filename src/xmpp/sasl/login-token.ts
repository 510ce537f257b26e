/**
 * Another credential SASL PLAIN accepts in place of the password: a login token issued by the
 * business API (src/api/login-tokens.ts). Declared here so the session knows only the check, not
 * who issues tokens. Checked under the same brute-force gate as a password.
 */
export interface LoginTokenCheck {
  /** Whether `password` is a valid login token for `username` at this moment. */
  accepts(username: string, password: string): Promise<boolean>;
}
