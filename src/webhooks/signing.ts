import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The headers of one delivery (Standard Webhooks, "Sending webhooks"). */
export interface SignedHeaders {
  readonly 'webhook-id': string;
  /** Seconds since the epoch at the attempt (each attempt is signed afresh, so receivers' tolerance holds). */
  readonly 'webhook-timestamp': string;
  /** `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per secret, space-separated (key rotation). */
  readonly 'webhook-signature': string;
}

/** A new signing secret in the Standard Webhooks form: `whsec_` and 24 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Whether a secret given by the client is one the signer accepts (`whsec_`-prefixed base64 of 24 to 64 bytes). */
export function isUsableSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return false;
  const bytes = Buffer.from(match[1] as string, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/**
 * Signs one delivery with every secret of the sink, the newest first: during a rotation the receiver
 * may hold either, and verifies when any signature matches.
 */
export function signDelivery(secrets: readonly string[], id: string, at: Date, body: string): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(id, at, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
