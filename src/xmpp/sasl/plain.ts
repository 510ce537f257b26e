import type { AccountStore } from '../../store/account-store';
import { normaliseLocal } from '../../base/jid';
import type { LoginTokenCheck } from './login-token';
import { BUSY, failure, ungated, type PasswordGate, type SaslExchange, type SaslStep } from './mechanism';

/** RFC 4616 PLAIN: `authzid NUL authcid NUL password`, in one message. */
export class PlainExchange implements SaslExchange {
  constructor(
    private readonly accounts: AccountStore,
    private readonly domain: string,
    private readonly gate: PasswordGate = ungated,
    /** Login tokens of the business API, accepted as the password (src/api/login-tokens.ts). */
    private readonly tokens?: LoginTokenCheck,
  ) {}

  async start(initial: Buffer | undefined): Promise<SaslStep> {
    // RFC 6120 §6.4.2: an empty initial response gets an empty challenge.
    if (initial === undefined || initial.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
    return this.respond(initial);
  }

  async respond(data: Buffer): Promise<SaslStep> {
    const parts = data.toString('utf8').split('\0');
    if (parts.length !== 3) return failure('malformed-request');
    const [authzid, authcid, password] = parts as [string, string, string];
    const username = normaliseLocal(authcid);
    if (username === undefined || password === '') return failure('not-authorized');
    // The authorization identity may only name the user themselves (no proxy authorization).
    if (authzid !== '' && authzid.toLowerCase() !== `${username}@${this.domain}` && authzid.toLowerCase() !== username) {
      return failure('invalid-authzid');
    }
    // A valid login token stands for the password; anything else is checked as a password. Both under
    // the gate, so failed tokens slow an attacker down like failed passwords.
    const check = async (): Promise<boolean> =>
      (this.tokens !== undefined && (await this.tokens.accepts(username, password))) || this.accounts.verifyPassword(username, password);
    switch (await this.gate(username, check)) {
      case 'accepted':
        return { kind: 'success', username };
      case 'refused':
        return failure('not-authorized', undefined, username);
      case 'busy':
        return failure('temporary-auth-failure', BUSY, username);
    }
  }
}
