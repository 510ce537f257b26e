import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountStore } from '../../store/account-store';
import { digest, hmac, type ScramHash, type ScramKeys } from '../../store/scram-keys';
import { normaliseLocal } from '../../base/jid';
import { BUSY, failure, ungated, type PasswordGate, type SaslExchange, type SaslStep } from './mechanism';

// Salts for unknown users are derived from this, so probing names learns nothing (RFC 5802 §9).
const UNKNOWN_USER_SECRET = randomBytes(32);

/** RFC 5802 §7: decodes a saslname (=2C is ',' and =3D is '='). */
function decodeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') continue;
    map.set(part[0] as string, part.slice(2));
  }
  return map;
}

/** RFC 5802 SCRAM without channel binding (SCRAM-SHA-1, SCRAM-SHA-256), server side. */
export class ScramExchange implements SaslExchange {
  private step: 'first' | 'final' | 'done' = 'first';
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private nonce = '';
  private username = '';
  private keys: ScramKeys | undefined;

  constructor(
    private readonly hash: ScramHash,
    private readonly accounts: AccountStore,
    private readonly domain: string,
    private readonly defaultIterations: number,
    private readonly gate: PasswordGate = ungated,
  ) {}

  async start(initial: Buffer | undefined): Promise<SaslStep> {
    if (initial === undefined || initial.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
    return this.respond(initial);
  }

  async respond(data: Buffer): Promise<SaslStep> {
    if (this.step === 'first') return this.clientFirst(data.toString('utf8'));
    if (this.step === 'final') return this.clientFinal(data.toString('utf8'));
    return failure('malformed-request');
  }

  private async clientFirst(message: string): Promise<SaslStep> {
    // gs2-header: channel-binding flag, optional authzid, then client-first-message-bare.
    const match = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/.exec(message);
    if (!match) return failure('malformed-request');
    const [, flag, authz, bare] = match as unknown as [string, string, string | undefined, string];
    if (flag.startsWith('p=')) return failure('malformed-request', 'channel binding is not supported');
    const attrs = attributes(bare);
    const name = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (attrs.has('m') || name === undefined || !clientNonce || clientNonce.includes(',')) return failure('malformed-request');
    const decoded = decodeSaslName(name);
    const username = decoded === undefined ? undefined : normaliseLocal(decoded);
    if (username === undefined) return failure('not-authorized');
    if (authz) {
      const authzid = decodeSaslName(authz.slice(2))?.toLowerCase();
      if (authzid !== `${username}@${this.domain}` && authzid !== username) return failure('invalid-authzid');
    }
    this.username = username;
    this.keys = await this.accounts.scramKeys(username, this.hash);
    const salt = this.keys?.salt ?? createHmac('sha256', UNKNOWN_USER_SECRET).update(username).digest().subarray(0, 16);
    const iterations = this.keys?.iterations ?? this.defaultIterations;
    this.gs2Header = message.slice(0, message.length - bare.length);
    this.clientFirstBare = bare;
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.step = 'final';
    return { kind: 'challenge', data: Buffer.from(this.serverFirst) };
  }

  private async clientFinal(message: string): Promise<SaslStep> {
    this.step = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) return failure('malformed-request');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(message);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) return failure('malformed-request', 'channel binding mismatch');
    if (attrs.get('r') !== this.nonce) return failure('malformed-request', 'nonce mismatch');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const keys = this.keys;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    // The proof is the password check (RFC 5802 §3): it is what brute-force protection gates.
    const proven = (): boolean => {
      if (!keys || proof.length !== keys.storedKey.length) return false;
      const clientSignature = hmac(this.hash, keys.storedKey, authMessage);
      const clientKey = Buffer.alloc(proof.length);
      for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
      return timingSafeEqual(digest(this.hash, clientKey), keys.storedKey);
    };
    const outcome = await this.gate(this.username, proven);
    if (outcome === 'busy') return failure('temporary-auth-failure', BUSY, this.username);
    if (outcome === 'refused' || !keys) return failure('not-authorized', undefined, this.username);
    const serverSignature = hmac(this.hash, keys.serverKey, authMessage);
    return { kind: 'success', username: this.username, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }
}
