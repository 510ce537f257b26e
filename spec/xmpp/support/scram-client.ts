import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A SCRAM client written from RFC 5802 §3 independently of the server code, so a test can log in with
 * SCRAM-SHA-1 or SCRAM-SHA-256 and check the server's signature.
 */
export class ScramClient {
  private clientFirstBare = '';
  private authMessage = '';
  private saltedPassword = Buffer.alloc(0);

  constructor(
    private readonly hash: 'sha1' | 'sha256',
    private readonly username: string,
    private readonly password: string,
    readonly nonce: string = randomBytes(18).toString('base64'),
    readonly gs2Header = 'n,,',
  ) {}

  /** client-first-message: gs2-header + client-first-message-bare. */
  first(): string {
    this.clientFirstBare = `n=${this.username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`;
    return this.gs2Header + this.clientFirstBare;
  }

  /** client-final-message for the server-first-message (throws when the server nonce does not extend ours). */
  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((p) => [p.slice(0, 1), p.slice(2)] as const));
    const serverNonce = attrs.get('r') ?? '';
    if (!serverNonce.startsWith(this.nonce)) throw new Error(`server nonce ${serverNonce} does not extend ${this.nonce}`);
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    this.saltedPassword = pbkdf2Sync(this.password, salt, iterations, this.hash === 'sha1' ? 20 : 32, this.hash);
    const withoutProof = `c=${Buffer.from(this.gs2Header).toString('base64')},r=${serverNonce}`;
    this.authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = createHmac(this.hash, this.saltedPassword).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const signature = createHmac(this.hash, storedKey).update(this.authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] as number)));
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** RFC 5802 §3: whether server-final-message carries the right ServerSignature. */
  verify(serverFinal: string): boolean {
    if (!serverFinal.startsWith('v=')) return false;
    const serverKey = createHmac(this.hash, this.saltedPassword).update('Server Key').digest();
    const expected = createHmac(this.hash, serverKey).update(this.authMessage).digest();
    const got = Buffer.from(serverFinal.slice(2), 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}
