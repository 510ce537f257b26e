import { errors, jwtVerify, SignJWT } from 'jose';
import type { AccountStore } from '../store/account-store';
import type { LoginTokenCheck } from '../xmpp/sasl/login-token';
import type { TokenValidity } from './token-validity';

/** Token login (docs/api.md): what the token says and for whom. */
const AUDIENCE = 'xmpp-login';
const ALGORITHM = 'HS256';
/** A compact JWS (RFC 7515 §7.1): three base64url parts, a JSON header first. */
const COMPACT_JWS = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * Login tokens: a JWT signed with HS256 under API_TOKEN_SECRET (RFC 7519), naming the user (`sub`),
 * the domain (`iss`), its purpose (`aud`) and its expiry, so any node verifies one with no lookup
 * of the token itself. SASL PLAIN accepts it as the user's password until it expires; the account
 * must still exist and the token must be newer than the user's revocation time (TokenValidity).
 * SCRAM cannot carry it: the server holds only keys derived from the real password (RFC 5802 §3).
 */
export class LoginTokens implements LoginTokenCheck {
  constructor(
    private readonly secret: Uint8Array,
    private readonly domain: string,
    private readonly accounts: AccountStore,
    private readonly validity: TokenValidity,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(username: string, ttlSeconds: number): Promise<IssuedToken> {
    const issuedAt = this.now();
    const expiresAt = new Date(Math.floor(issuedAt / 1000) * 1000 + ttlSeconds * 1000);
    const token = await new SignJWT({ ims: issuedAt })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(username)
      .setIssuer(this.domain)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.secret);
    return { token, expiresAt };
  }

  /** Whether `password` is a valid login token for `username` now. */
  async accepts(username: string, password: string): Promise<boolean> {
    if (!COMPACT_JWS.test(password)) return false;
    let issuedAt: number;
    try {
      const { payload } = await jwtVerify(password, this.secret, {
        algorithms: [ALGORITHM],
        issuer: this.domain,
        audience: AUDIENCE,
        subject: username,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'ims'],
      });
      issuedAt = Number(payload.ims);
    } catch (err) {
      if (err instanceof errors.JOSEError) return false;
      throw err;
    }
    // Revoked: the account is gone, or tokens issued before a time were voided.
    if (!(await this.accounts.exists(username))) return false;
    return issuedAt >= (await this.validity.validAfter(username));
  }
}
