import { AuthCache } from '../../../src/store/auth-cache';
import { MemoryAccountStore } from '../../../src/store/memory-account-store';
import { deriveScramKeys, type ScramHash } from '../../../src/store/scram-keys';
import type { SaslStep } from '../../../src/xmpp/sasl/mechanism';
import { ScramExchange } from '../../../src/xmpp/sasl/scram';
import { ScramClient } from '../support/scram-client';
import type * as NodeCrypto from 'node:crypto';

// The live module object scram.ts calls into, so one randomBytes call can be pinned.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeCrypto = require('node:crypto') as typeof NodeCrypto;

const ITERATIONS = 4096;
const DOMAIN = 'localhost';

interface Vector {
  readonly name: string;
  readonly hash: ScramHash;
  readonly nodeHash: 'sha1' | 'sha256';
  readonly salt: string;
  readonly clientFirst: string;
  /** What the server appends to the client nonce in the RFC's exchange. */
  readonly serverNonceSuffix: string;
  readonly serverFirst: string;
  readonly clientFinal: string;
  readonly serverFinal: string;
}

// RFC 5802 §5: user 'user', password 'pencil'.
const RFC5802_SHA1: Vector = {
  name: 'RFC 5802 §5 SCRAM-SHA-1',
  hash: 'SHA-1',
  nodeHash: 'sha1',
  salt: 'QSXCR+Q6sek8bf92',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverNonceSuffix: '3rfcNHYJY1ZVvWVs7j',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

// RFC 7677 §3: the same user and password with SHA-256.
const RFC7677_SHA256: Vector = {
  name: 'RFC 7677 §3 SCRAM-SHA-256',
  hash: 'SHA-256',
  nodeHash: 'sha256',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonceSuffix: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

/** A store holding 'user' with keys derived from 'pencil' and the vector's salt (RFC 5802 §3: keys, not the password). */
async function storeFor(vector: Vector): Promise<MemoryAccountStore> {
  const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
  store.setKeys('user', { [vector.hash]: await deriveScramKeys(vector.hash, 'pencil', ITERATIONS, Buffer.from(vector.salt, 'base64')) });
  return store;
}

/**
 * The server nonce is the one random input of the exchange; pinning it to the RFC's value lets the RFC's
 * client-final message (whose proof covers that nonce) be replayed verbatim.
 */
function pinServerNonce(suffix: string): void {
  const fake = Buffer.alloc(18);
  fake.toString = () => suffix;
  jest.spyOn(nodeCrypto, 'randomBytes').mockImplementationOnce(() => fake);
}

function text(step: SaslStep): string {
  if (step.kind === 'challenge') return step.data.toString('utf8');
  if (step.kind === 'success') return step.data?.toString('utf8') ?? '';
  throw new Error(`expected a challenge or success, got failure ${step.condition}`);
}

afterEach(() => jest.restoreAllMocks());

describe.each([RFC5802_SHA1, RFC7677_SHA256])('$name example exchange', (vector) => {
  it('answers the RFC client-first-message with exactly the RFC server-first-message', async () => {
    const exchange = new ScramExchange(vector.hash, await storeFor(vector), DOMAIN, ITERATIONS);
    pinServerNonce(vector.serverNonceSuffix);
    const step = await exchange.start(Buffer.from(vector.clientFirst));
    expect(step.kind).toBe('challenge');
    expect(text(step)).toBe(vector.serverFirst);
  });

  it('accepts the RFC client-final-message and answers with the RFC server signature', async () => {
    const exchange = new ScramExchange(vector.hash, await storeFor(vector), DOMAIN, ITERATIONS);
    pinServerNonce(vector.serverNonceSuffix);
    await exchange.start(Buffer.from(vector.clientFirst));
    const step = await exchange.respond(Buffer.from(vector.clientFinal));
    expect(step).toMatchObject({ kind: 'success', username: 'user' });
    expect(text(step)).toBe(vector.serverFinal);
  });

  it('refuses the RFC exchange with one bit of the client proof changed, as not-authorized', async () => {
    const exchange = new ScramExchange(vector.hash, await storeFor(vector), DOMAIN, ITERATIONS);
    pinServerNonce(vector.serverNonceSuffix);
    await exchange.start(Buffer.from(vector.clientFirst));
    const proofAt = vector.clientFinal.indexOf(',p=') + 3;
    const proof = Buffer.from(vector.clientFinal.slice(proofAt), 'base64');
    proof[0] = (proof[0] as number) ^ 0x01;
    const step = await exchange.respond(Buffer.from(`${vector.clientFinal.slice(0, proofAt)}${proof.toString('base64')}`));
    expect(step).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('refuses the RFC client-final-message when the server chose its own nonce (the proof covers the nonce)', async () => {
    const exchange = new ScramExchange(vector.hash, await storeFor(vector), DOMAIN, ITERATIONS);
    await exchange.start(Buffer.from(vector.clientFirst));
    const step = await exchange.respond(Buffer.from(vector.clientFinal));
    expect(step.kind).toBe('failure');
  });
});

describe('the server-first-message extends the client nonce with fresh randomness (RFC 5802 §5.1 r=, §9)', () => {
  it('starts with the client nonce, adds printable characters without commas, and carries the stored salt and iteration count', async () => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    const serverFirst = text(await exchange.start(Buffer.from(RFC5802_SHA1.clientFirst)));
    const match = /^r=([^,]+),s=([^,]+),i=([0-9]+)$/.exec(serverFirst);
    expect(match).not.toBeNull();
    const [, nonce, salt, iterations] = match as unknown as [string, string, string, string];
    expect(nonce.startsWith('fyko+d2lbbFgONRv9qkxdawL')).toBe(true);
    const added = nonce.slice('fyko+d2lbbFgONRv9qkxdawL'.length);
    expect(added.length).toBeGreaterThanOrEqual(16);
    expect(added).toMatch(/^[\x21-\x2b\x2d-\x7e]+$/);
    expect(salt).toBe(RFC5802_SHA1.salt);
    expect(Number(iterations)).toBe(4096);
  });

  it('chooses a different nonce for each exchange', async () => {
    const store = await storeFor(RFC5802_SHA1);
    const a = text(await new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS).start(Buffer.from(RFC5802_SHA1.clientFirst)));
    const b = text(await new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS).start(Buffer.from(RFC5802_SHA1.clientFirst)));
    expect(a.split(',')[0]).not.toBe(b.split(',')[0]);
  });

  it.each([RFC5802_SHA1, RFC7677_SHA256])('completes a $name login with a random nonce and a server signature the client can verify', async (vector) => {
    const exchange = new ScramExchange(vector.hash, await storeFor(vector), DOMAIN, ITERATIONS);
    const client = new ScramClient(vector.nodeHash, 'user', 'pencil');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    const step = await exchange.respond(Buffer.from(client.final(serverFirst)));
    expect(step).toMatchObject({ kind: 'success', username: 'user' });
    expect(client.verify(text(step))).toBe(true);
  });

  it('refuses a client-final-message whose nonce is not the combined nonce it was sent', async () => {
    const exchange = new ScramExchange('SHA-256', await storeFor(RFC7677_SHA256), DOMAIN, ITERATIONS);
    const client = new ScramClient('sha256', 'user', 'pencil');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    // A client echoing a nonce of its own choosing, with a proof computed over it.
    const forged = serverFirst.replace(/^r=[^,]+/, `r=${client.nonce}attacker`);
    const step = await exchange.respond(Buffer.from(client.final(forged)));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });

  it('refuses a wrong password as not-authorized', async () => {
    const exchange = new ScramExchange('SHA-256', await storeFor(RFC7677_SHA256), DOMAIN, ITERATIONS);
    const client = new ScramClient('sha256', 'user', 'pencil2');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    expect(await exchange.respond(Buffer.from(client.final(serverFirst)))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('answers nothing but failure once the exchange is over (no second proof attempt on the same nonce)', async () => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    const wrong = new ScramClient('sha1', 'user', 'wrong');
    const serverFirst = text(await exchange.start(Buffer.from(wrong.first())));
    await exchange.respond(Buffer.from(wrong.final(serverFirst)));
    const right = new ScramClient('sha1', 'user', 'pencil', wrong.nonce);
    right.first();
    expect((await exchange.respond(Buffer.from(right.final(serverFirst)))).kind).toBe('failure');
  });
});

describe('channel binding is not offered, so the gs2 header decides what is allowed (RFC 5802 §6, §7)', () => {
  it("refuses a client that requires channel binding with 'p=' at the first step", async () => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    const step = await exchange.start(Buffer.from('p=tls-unique,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect(step.kind).toBe('failure');
  });

  it("accepts 'y' (the client could bind but believes the server cannot) and expects c= to echo that header", async () => {
    const exchange = new ScramExchange('SHA-256', await storeFor(RFC7677_SHA256), DOMAIN, ITERATIONS);
    const client = new ScramClient('sha256', 'user', 'pencil', undefined, 'y,,');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    const final = client.final(serverFirst);
    expect(final.startsWith('c=eSws,')).toBe(true);
    expect(await exchange.respond(Buffer.from(final))).toMatchObject({ kind: 'success' });
  });

  it('refuses a client-final-message whose c= does not repeat the gs2 header of the first message', async () => {
    const exchange = new ScramExchange('SHA-256', await storeFor(RFC7677_SHA256), DOMAIN, ITERATIONS);
    const client = new ScramClient('sha256', 'user', 'pencil', undefined, 'y,,');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    const final = client.final(serverFirst).replace('c=eSws,', 'c=biws,');
    expect((await exchange.respond(Buffer.from(final))).kind).toBe('failure');
  });
});

describe('an unknown user is not revealed at the first step (RFC 5802 §9)', () => {
  it('answers an unknown name with a server-first-message of the same shape as for a real account', async () => {
    // A real account as the server creates them (16-byte random salt), not the RFC's 12-byte salt.
    const store = new MemoryAccountStore(ITERATIONS, new AuthCache(0, 1000));
    await store.setPassword('user', 'pencil');
    const known = text(await new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS).start(Buffer.from('n,,n=user,r=abc')));
    const unknown = text(await new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS).start(Buffer.from('n,,n=nobody,r=abc')));
    const shape = (s: string): string =>
      s.replace(/^r=abc[^,]+,s=([^,]+),i=([0-9]+)$/, (_m, salt: string, i: string) => `r,s${Buffer.from(salt, 'base64').length},i${i}`);
    expect(shape(unknown)).toBe(shape(known));
    expect(shape(unknown)).toBe('r,s16,i4096');
  });

  it('gives the same salt for the same unknown name each time, as a real account would', async () => {
    const store = await storeFor(RFC5802_SHA1);
    const salt = async (): Promise<string> =>
      text(await new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS).start(Buffer.from('n,,n=nobody,r=abc'))).split(',')[1] as string;
    expect(await salt()).toBe(await salt());
  });

  it('fails an unknown user only at the final step, with the same not-authorized as a wrong password', async () => {
    const store = await storeFor(RFC5802_SHA1);
    const exchange = new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS);
    const client = new ScramClient('sha1', 'nobody', 'pencil');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    const unknown = await exchange.respond(Buffer.from(client.final(serverFirst)));
    const wrongPassword = new ScramExchange('SHA-1', store, DOMAIN, ITERATIONS);
    const wrong = new ScramClient('sha1', 'user', 'not-pencil');
    const wrongFirst = text(await wrongPassword.start(Buffer.from(wrong.first())));
    const refused = await wrongPassword.respond(Buffer.from(wrong.final(wrongFirst)));
    // What reaches the client: the condition and the text.
    const seen = (step: SaslStep) => (step.kind === 'failure' ? { condition: step.condition, text: step.text } : step);
    expect(seen(unknown)).toEqual({ condition: 'not-authorized', text: undefined });
    expect(seen(unknown)).toEqual(seen(refused));
  });
});

describe('the client-first-message is validated (RFC 5802 §5.1, §7)', () => {
  it('answers an empty initial response with an empty challenge, then takes the client-first-message as a response (RFC 6120 §6.4.2)', async () => {
    const exchange = new ScramExchange('SHA-256', await storeFor(RFC7677_SHA256), DOMAIN, ITERATIONS);
    const empty = await exchange.start(undefined);
    expect(empty.kind).toBe('challenge');
    expect(text(empty)).toBe('');
    const client = new ScramClient('sha256', 'user', 'pencil');
    const serverFirst = text(await exchange.respond(Buffer.from(client.first())));
    expect(await exchange.respond(Buffer.from(client.final(serverFirst)))).toMatchObject({ kind: 'success', username: 'user' });
  });

  it.each([
    ['no gs2 header', 'n=user,r=abc'],
    ['an unknown channel-binding flag', 'x,,n=user,r=abc'],
    ['no nonce', 'n,,n=user'],
    ['no username', 'n,,r=abc'],
    ['the reserved mandatory-extension attribute m=', 'n,,m=ext,n=user,r=abc'],
  ])('refuses a client-first-message with %s', async (_what, message) => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    expect((await exchange.start(Buffer.from(message))).kind).toBe('failure');
  });

  it("refuses a username with '=' not followed by 2C or 3D", async () => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    expect((await exchange.start(Buffer.from('n,,n=us=41er,r=abc'))).kind).toBe('failure');
  });

  it('accepts an authzid naming the user themselves (RFC 6120 §6.3.8) and refuses one naming someone else', async () => {
    const store = await storeFor(RFC7677_SHA256);
    const self = new ScramClient('sha256', 'user', 'pencil', undefined, 'n,a=user@localhost,');
    const exchange = new ScramExchange('SHA-256', store, DOMAIN, ITERATIONS);
    const serverFirst = text(await exchange.start(Buffer.from(self.first())));
    expect(await exchange.respond(Buffer.from(self.final(serverFirst)))).toMatchObject({ kind: 'success', username: 'user' });

    const other = new ScramExchange('SHA-256', store, DOMAIN, ITERATIONS);
    expect(await other.start(Buffer.from('n,a=admin@localhost,n=user,r=abc'))).toMatchObject({ kind: 'failure', condition: 'invalid-authzid' });
  });

  it('matches the username case-insensitively, as the localpart it names (RFC 7622 §3.3)', async () => {
    const exchange = new ScramExchange('SHA-1', await storeFor(RFC5802_SHA1), DOMAIN, ITERATIONS);
    const client = new ScramClient('sha1', 'USER', 'pencil');
    const serverFirst = text(await exchange.start(Buffer.from(client.first())));
    expect(await exchange.respond(Buffer.from(client.final(serverFirst)))).toMatchObject({ kind: 'success', username: 'user' });
  });
});
