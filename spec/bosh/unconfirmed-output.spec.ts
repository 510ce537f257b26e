import { Element } from 'ltx';
import { Harness } from '../support/bosh-harness';

/** A message pushed to the session with a callback that records when it is settled. */
function pushTracked(output: { send(element: Element, settled?: () => void): void }, text: string, settled: string[]): void {
  output.send(new Element('message', { xmlns: 'jabber:client', to: 'alice@localhost/web', id: text }).c('body').t(text).up(), () => settled.push(text));
}

describe('XEP-0124 §9.1 receipts: output is settled only once the client shows it has it', () => {
  it('without acks, a request with rid R confirms the responses up to R - requests', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const settled: string[] = [];
    const poll = h.request(sid, 1001);
    pushTracked(endpoint.output, 'm1', settled);
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['m1']);
    // Answered, but the client may not have it yet (requests='2': rid 1002 says nothing of 1001).
    h.request(sid, 1002);
    expect(settled).toEqual([]);
    h.request(sid, 1003);
    expect(settled).toEqual(['m1']);
  });

  it('with acks, the ack attribute confirms (rid - 1 when it is left out)', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11' ack='1'");
    const settled: string[] = [];
    const poll = h.request(sid, 1001);
    pushTracked(endpoint.output, 'm1', settled);
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['m1']);
    h.request(sid, 1002, '', "ack='1000'");
    expect(settled).toEqual([]);
    h.request(sid, 1003);
    expect(settled).toEqual(['m1']);
  });

  it('hands back a message whose response was never confirmed when the session ends (§10 inactivity), and settles it once routed again', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const settled: string[] = [];
    const poll = h.request(sid, 1001);
    pushTracked(endpoint.output, 'm1', settled);
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['m1']);
    // The client never comes back (the response went to a socket already gone).
    h.scheduler.advance(31_000);
    expect(endpoint.ended?.reason).toBe('inactivity');
    expect(endpoint.ended?.undelivered.map((e) => e.attrs.id)).toEqual(['m1']);
    expect(settled).toEqual([]);
    endpoint.ended?.rerouted?.();
    expect(settled).toEqual(['m1']);
  });

  it('hands back what went into the terminal body of a stream the server closed (XEP-0206 §7): its receipt is never known', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const settled: string[] = [];
    pushTracked(endpoint.output, 'm1', settled);
    endpoint.output.close(new Element('stream:error').c('system-shutdown', { xmlns: 'urn:ietf:params:xml:ns:xmpp-streams' }).up());
    const last = h.request(sid, 1001);
    expect(last.attr('type')).toBe('terminate');
    expect(last.texts).toEqual(['m1']);
    expect(endpoint.ended?.undelivered.map((e) => e.attrs.id)).toEqual(['m1']);
    endpoint.ended?.rerouted?.();
    expect(settled).toEqual(['m1']);
  });

  it('takes a terminate (§13) as the receipt of every response answered before it', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const settled: string[] = [];
    const poll = h.request(sid, 1001);
    pushTracked(endpoint.output, 'm1', settled);
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['m1']);
    h.request(sid, 1002, '', "type='terminate'");
    expect(settled).toEqual(['m1']);
    expect(endpoint.ended?.undelivered).toEqual([]);
  });

  it('answers a held request after a second while a response with stanzas is unconfirmed, so the next request confirms it', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const settled: string[] = [];
    const poll = h.request(sid, 1001);
    pushTracked(endpoint.output, 'm1', settled);
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['m1']);
    const next = h.request(sid, 1002);
    h.scheduler.advance(999);
    expect(next.answered).toBe(false);
    h.scheduler.advance(1);
    expect(next.body).toBe(`<body xmlns='http://jabber.org/protocol/httpbind'/>`);
    const after = h.request(sid, 1003);
    expect(settled).toEqual(['m1']);
    // Nothing waits for a receipt any more: the full wait again.
    h.scheduler.advance(9_999);
    expect(after.answered).toBe(false);
  });

  it('answers that held request after BOSH_CONFIRMATION_PROMPT_MS when it is set, and never later than wait (§8)', () => {
    const prompted = (limits: { confirmationPromptMs: number; maxWait?: number }, wait: number, dueMs: number): void => {
      const h = new Harness(limits);
      const { sid, endpoint } = h.create(`wait='${wait}' hold='1' ver='1.11'`);
      const settled: string[] = [];
      h.request(sid, 1001);
      pushTracked(endpoint.output, 'm1', settled);
      h.scheduler.runDeferred();
      const next = h.request(sid, 1002);
      h.scheduler.advance(dueMs - 1);
      expect(next.answered).toBe(false);
      h.scheduler.advance(1);
      expect(next.answered).toBe(true);
      h.request(sid, 1003);
      expect(settled).toEqual(['m1']);
    };
    prompted({ confirmationPromptMs: 250 }, 10, 250);
    prompted({ confirmationPromptMs: 5_000 }, 2, 2_000);
    prompted({ confirmationPromptMs: 5_000, maxWait: 3 }, 10, 3_000);
  });

  it('keeps nothing back for presence: only messages, iqs and what someone waits on are routed again', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const poll = h.request(sid, 1001);
    endpoint.output.send(new Element('presence', { xmlns: 'jabber:client', from: 'bob@localhost/x' }));
    h.scheduler.runDeferred();
    expect(poll.answered).toBe(true);
    h.scheduler.advance(31_000);
    expect(endpoint.ended?.undelivered).toEqual([]);
  });
});
