import { AuthCache } from '../../../src/store/auth-cache';
import { MemoryAccountStore } from '../../../src/store/memory-account-store';
import type { SaslStep } from '../../../src/xmpp/sasl/mechanism';
import { PlainExchange } from '../../../src/xmpp/sasl/plain';

const DOMAIN = 'localhost';

/** RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
const message = (authzid: string, authcid: string, password: string): Buffer => Buffer.from(`${authzid}\0${authcid}\0${password}`);

let store: MemoryAccountStore;

beforeAll(async () => {
  store = new MemoryAccountStore(4096, new AuthCache(0, 1000));
  await store.setPassword('alice', 'secret');
  await store.setPassword('bob', 'other');
});

const plain = (): PlainExchange => new PlainExchange(store, DOMAIN);

describe('PLAIN logs a user in from authcid and password (RFC 4616 §2)', () => {
  it('succeeds with the right password and an empty authzid, naming the user', async () => {
    expect(await plain().start(message('', 'alice', 'secret'))).toEqual({ kind: 'success', username: 'alice' });
  });

  it('matches the authcid as a localpart, whatever its case (RFC 7622 §3.3)', async () => {
    expect(await plain().start(message('', 'Alice', 'secret'))).toEqual({ kind: 'success', username: 'alice' });
  });

  it('compares the password exactly: another case is a wrong password', async () => {
    expect(await plain().start(message('', 'alice', 'SECRET'))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('refuses a wrong password as not-authorized (RFC 6120 §6.5.10)', async () => {
    expect(await plain().start(message('', 'alice', 'wrong'))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('refuses another user’s password', async () => {
    expect(await plain().start(message('', 'alice', 'other'))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('gives an unknown user exactly the answer a wrong password gets, so names cannot be probed', async () => {
    const unknown = await plain().start(message('', 'nobody', 'secret'));
    const wrong = await plain().start(message('', 'alice', 'wrong'));
    // What reaches the client: the condition and the text.
    const seen = (step: SaslStep) => (step.kind === 'failure' ? { condition: step.condition, text: step.text } : step);
    expect(unknown.kind).toBe('failure');
    expect(seen(unknown)).toEqual(seen(wrong));
  });

  it('refuses an empty password and an empty authcid', async () => {
    expect(await plain().start(message('', 'alice', ''))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
    expect(await plain().start(message('', '', 'secret'))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('refuses an authcid that is not a valid localpart (RFC 7622 §3.3.1)', async () => {
    expect(await plain().start(message('', 'alice@localhost', 'secret'))).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });
});

describe('the PLAIN authzid may only name the authenticated user (RFC 6120 §6.3.8, RFC 4616 §2)', () => {
  it('accepts the user’s own bare JID as authzid', async () => {
    expect(await plain().start(message('alice@localhost', 'alice', 'secret'))).toEqual({ kind: 'success', username: 'alice' });
  });

  it('accepts the user’s own bare JID in another case', async () => {
    expect(await plain().start(message('Alice@LOCALHOST', 'alice', 'secret'))).toEqual({ kind: 'success', username: 'alice' });
  });

  it('refuses another user’s JID as invalid-authzid, even with the right password', async () => {
    expect(await plain().start(message('bob@localhost', 'alice', 'secret'))).toMatchObject({ kind: 'failure', condition: 'invalid-authzid' });
  });

  it('refuses the user’s name at another domain as invalid-authzid', async () => {
    expect(await plain().start(message('alice@example.com', 'alice', 'secret'))).toMatchObject({ kind: 'failure', condition: 'invalid-authzid' });
  });

  it('does not reveal whether the password was right when the authzid is refused', async () => {
    const right = await plain().start(message('bob@localhost', 'alice', 'secret'));
    const wrong = await plain().start(message('bob@localhost', 'alice', 'wrong'));
    expect(right.kind).toBe('failure');
    expect(wrong.kind).toBe('failure');
    // The authzid check comes first, so neither outcome leaks the password check.
    expect(right).toEqual(wrong);
  });
});

describe('a malformed PLAIN message is refused (RFC 4616 §2)', () => {
  it.each([
    ['no NUL separator', Buffer.from('alice secret')],
    ['one NUL separator', Buffer.from('alice\0secret')],
    ['three NUL separators', Buffer.from('\0alice\0secret\0')],
  ])('answers malformed-request to a message with %s', async (_what, data) => {
    expect(await plain().start(data)).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });
});

describe('PLAIN without an initial response gets an empty challenge (RFC 6120 §6.4.2)', () => {
  it('answers an absent initial response with an empty challenge and takes the message as the response', async () => {
    const exchange = plain();
    const challenge = await exchange.start(undefined);
    expect(challenge.kind).toBe('challenge');
    expect(challenge.kind === 'challenge' && challenge.data.length).toBe(0);
    expect(await exchange.respond(message('', 'alice', 'secret'))).toEqual({ kind: 'success', username: 'alice' });
  });
});
