import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/** The SCRAM hash functions offered (RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256). */
export type ScramHash = 'SHA-1' | 'SHA-256';
export const SCRAM_HASHES: readonly ScramHash[] = ['SHA-256', 'SHA-1'];

/** What a server keeps of a password (RFC 5802 §3): never the password itself. */
export interface ScramKeys {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

function nodeDigest(hash: ScramHash): 'sha1' | 'sha256' {
  return hash === 'SHA-1' ? 'sha1' : 'sha256';
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(nodeDigest(hash), key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(nodeDigest(hash)).update(data).digest();
}

/** Hi() of RFC 5802 §2.2, on the libuv thread pool so the event loop keeps serving requests. */
export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const length = hash === 'SHA-1' ? 20 : 32;
  return new Promise((resolve, reject) => {
    pbkdf2(password.normalize('NFKC'), salt, iterations, length, nodeDigest(hash), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function keysFromSaltedPassword(hash: ScramHash, salted: Buffer, salt: Buffer, iterations: number): ScramKeys {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { salt, iterations, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

/** The keys of one account, per hash. */
export type KeySet = Partial<Record<ScramHash, ScramKeys>>;

/** Keys for every offered hash from one password (what account creation and a password change store). */
export async function deriveKeySet(password: string, iterations: number): Promise<KeySet> {
  const keys: KeySet = {};
  for (const hash of SCRAM_HASHES) keys[hash] = await deriveScramKeys(hash, password, iterations);
  return keys;
}

export async function deriveScramKeys(hash: ScramHash, password: string, iterations: number, salt = randomBytes(16)): Promise<ScramKeys> {
  return keysFromSaltedPassword(hash, await saltedPassword(hash, password, salt, iterations), salt, iterations);
}

/** Checks a plain password against stored keys (for SASL PLAIN): one PBKDF2 run. */
export async function passwordMatches(hash: ScramHash, keys: ScramKeys, password: string): Promise<boolean> {
  const candidate = keysFromSaltedPassword(hash, await saltedPassword(hash, password, keys.salt, keys.iterations), keys.salt, keys.iterations);
  return timingSafeEqual(candidate.storedKey, keys.storedKey);
}

/** The text form used in users files and stores: `iterations:salt:storedKey:serverKey`, base64 parts. */
export function encodeKeys(keys: ScramKeys): string {
  return [keys.iterations, keys.salt.toString('base64'), keys.storedKey.toString('base64'), keys.serverKey.toString('base64')].join(':');
}

export function decodeKeys(text: string): ScramKeys | undefined {
  const [iterations, salt, storedKey, serverKey] = text.split(':');
  if (!iterations || !salt || !storedKey || !serverKey || !/^[0-9]+$/.test(iterations)) return undefined;
  return {
    iterations: Number(iterations),
    salt: Buffer.from(salt, 'base64'),
    storedKey: Buffer.from(storedKey, 'base64'),
    serverKey: Buffer.from(serverKey, 'base64'),
  };
}
