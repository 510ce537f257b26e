import { inbound, outbound } from '../../../src/xmpp/presence/subscription-rules';
import { NO_CONTACT, type ContactState } from '../../../src/xmpp/roster/contact-state';

const state = (overrides: Partial<ContactState>): ContactState => ({ ...NO_CONTACT, exists: true, ...overrides });

describe('RFC 6121 Appendix A.2: the user sends a subscription stanza (user’s server)', () => {
  it('subscribe creates the item with ask and routes the request (§3.1.2)', () => {
    const result = outbound('subscribe', NO_CONTACT);
    expect(result.next).toMatchObject({ exists: true, subscription: 'none', ask: true });
    expect(result.pass).toBe(true);
  });

  it('subscribe when already subscribed changes nothing but still routes', () => {
    expect(outbound('subscribe', state({ subscription: 'to' }))).toMatchObject({ next: undefined, pass: true });
    expect(outbound('subscribe', state({ subscription: 'both' }))).toMatchObject({ next: undefined, pass: true });
  });

  it('subscribed approves a waiting request: none→from, to→both, and the user’s presence goes to the contact (§3.1.5)', () => {
    expect(outbound('subscribed', state({ pendingIn: true }))).toMatchObject({
      next: { subscription: 'from', pendingIn: false },
      pass: true,
      sendPresence: true,
    });
    expect(outbound('subscribed', state({ subscription: 'to', pendingIn: true })).next?.subscription).toBe('both');
  });

  it('subscribed with no request waiting is a pre-approval, not routed (§3.4)', () => {
    expect(outbound('subscribed', NO_CONTACT)).toMatchObject({ next: { approved: true, exists: true }, pass: false });
  });

  it('unsubscribe ends the user’s subscription: to→none, both→from, ask cleared (§3.3.2)', () => {
    expect(outbound('unsubscribe', state({ subscription: 'both' })).next?.subscription).toBe('from');
    expect(outbound('unsubscribe', state({ subscription: 'none', ask: true })).next).toMatchObject({ subscription: 'none', ask: false });
    expect(outbound('unsubscribe', state({ subscription: 'from' }))).toMatchObject({ next: undefined, pass: false });
  });

  it('unsubscribed cancels the contact’s subscription and tells it the user is unavailable (§3.2.2)', () => {
    expect(outbound('unsubscribed', state({ subscription: 'from' }))).toMatchObject({ next: { subscription: 'none' }, pass: true, sendUnavailable: true });
    expect(outbound('unsubscribed', state({ subscription: 'both' })).next?.subscription).toBe('to');
  });

  it('unsubscribed denies a waiting request', () => {
    expect(outbound('unsubscribed', state({ pendingIn: true }))).toMatchObject({ next: { pendingIn: false }, pass: true, sendUnavailable: false });
  });
});

describe('RFC 6121 Appendix A.3: a subscription stanza reaches the user (contact’s server)', () => {
  it('subscribe waits for the user (pending in) and is delivered (§3.1.3)', () => {
    expect(inbound('subscribe', NO_CONTACT)).toMatchObject({ next: { pendingIn: true }, pass: true, autoSubscribed: false });
  });

  it('subscribe from an already subscribed contact is answered by the server, not delivered', () => {
    expect(inbound('subscribe', state({ subscription: 'from' }))).toMatchObject({ pass: false, autoSubscribed: true, next: undefined });
  });

  it('subscribe after a pre-approval is granted at once (§3.4)', () => {
    const result = inbound('subscribe', state({ approved: true }));
    expect(result).toMatchObject({ next: { subscription: 'from', approved: false }, autoSubscribed: true, sendPresence: true, pass: false });
  });

  it('subscribed only counts as an answer to the user’s own request (§3.1.6)', () => {
    expect(inbound('subscribed', state({ ask: true }))).toMatchObject({ next: { subscription: 'to', ask: false }, pass: true });
    expect(inbound('subscribed', state({ subscription: 'from', ask: true })).next?.subscription).toBe('both');
    expect(inbound('subscribed', NO_CONTACT)).toMatchObject({ next: undefined, pass: false });
  });

  it('unsubscribe from the contact ends its subscription to the user, who is then unavailable to it (§3.3.3)', () => {
    expect(inbound('unsubscribe', state({ subscription: 'both' }))).toMatchObject({ next: { subscription: 'to' }, pass: true, sendUnavailable: true });
    expect(inbound('unsubscribe', state({ pendingIn: true }))).toMatchObject({ next: { pendingIn: false }, pass: true });
    expect(inbound('unsubscribe', state({ subscription: 'to' }))).toMatchObject({ next: undefined, pass: false });
  });

  it('unsubscribed from the contact cancels or denies the user’s subscription (§3.2.3)', () => {
    expect(inbound('unsubscribed', state({ subscription: 'both' })).next?.subscription).toBe('from');
    expect(inbound('unsubscribed', state({ ask: true })).next).toMatchObject({ subscription: 'none', ask: false });
    expect(inbound('unsubscribed', state({ subscription: 'from' }))).toMatchObject({ next: undefined, pass: false });
  });
});
