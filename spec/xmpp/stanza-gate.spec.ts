import { parse } from 'ltx';
import { makeJid } from '../../src/base/jid';
import { StanzaGate } from '../../src/xmpp/stanza-gate';

const limits = { stanzasPerSecond: 1000, stanzaBurst: 1000, maxInboxStanzas: 2 };
const alice = makeJid('alice', 'localhost', 'phone');
const xml = (text: string) => parse(text);

describe('the stanza gate checks what a bound session sends (RFC 6120 §8.1.2.1, §4.9.3)', () => {
  it('passes a stanza to this domain with its parsed to, stamped with the full JID and jabber:client', () => {
    const message = xml("<message to='bob@localhost/desk'><body>hi</body></message>");
    const verdict = new StanzaGate(limits, 'localhost').check(message, alice);
    expect(verdict).toEqual({ kind: 'pass', to: makeJid('bob', 'localhost', 'desk') });
    expect(message.attrs).toMatchObject({ from: 'alice@localhost/phone', xmlns: 'jabber:client' });
  });

  it('closes the stream with invalid-from when from names someone else', () => {
    const verdict = new StanzaGate(limits, 'localhost').check(xml("<message from='eve@localhost'/>"), alice);
    expect(verdict).toMatchObject({ kind: 'close', condition: 'invalid-from' });
  });

  it('closes the stream with unsupported-stanza-type for an element that is not a stanza', () => {
    expect(new StanzaGate(limits, 'localhost').check(xml('<foo/>'), alice)).toMatchObject({ kind: 'close', condition: 'unsupported-stanza-type' });
  });

  it('refuses only the stanza when it goes to another domain (no federation)', () => {
    const verdict = new StanzaGate(limits, 'localhost').check(xml("<message to='bob@elsewhere'/>"), alice);
    expect(verdict.kind === 'refuse' && verdict.error.condition).toBe('remote-server-not-found');
  });

  it('refuses stanzas over the rate with policy-violation of type wait', () => {
    const gate = new StanzaGate({ ...limits, stanzasPerSecond: 0, stanzaBurst: 1 }, 'localhost');
    expect(gate.check(xml('<presence/>'), alice).kind).toBe('pass');
    const verdict = gate.check(xml('<presence/>'), alice);
    expect(verdict.kind === 'refuse' && [verdict.error.condition, verdict.error.type]).toEqual(['policy-violation', 'wait']);
  });
});

describe('the stanza gate bounds the mailbox', () => {
  it('lets an element wait while the mailbox has room', () => {
    expect(new StanzaGate(limits, 'localhost').queue(xml('<message/>'), 1, true).kind).toBe('pass');
  });

  it('refuses a stanza of a bound session with resource-constraint when full, and closes an unbound stream', () => {
    const gate = new StanzaGate(limits, 'localhost');
    const bound = gate.queue(xml('<message/>'), 2, true);
    expect(bound.kind === 'refuse' && bound.error.condition).toBe('resource-constraint');
    expect(gate.queue(xml('<message/>'), 2, false)).toMatchObject({ kind: 'close', condition: 'policy-violation' });
  });
});
