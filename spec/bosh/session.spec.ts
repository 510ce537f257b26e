import { createHash } from 'node:crypto';
import { Element } from 'ltx';
import { Harness, NS } from '../support/bosh-harness';

function open(limits = {}, attrs = "wait='10' hold='1' ver='1.11'") {
  const h = new Harness(limits);
  const { sid, endpoint } = h.create(attrs);
  return { h, sid, endpoint };
}

describe('XEP-0124 §8 holding requests', () => {
  it('holds an empty request until wait elapses, then answers it empty', () => {
    const { h, sid } = open();
    const poll = h.request(sid, 1001);
    h.scheduler.advance(9_999);
    expect(poll.answered).toBe(false);
    h.scheduler.advance(1);
    expect(poll.body).toBe(`<body xmlns='${NS}'/>`);
  });

  it('answers the held request as soon as a stanza arrives for the session', () => {
    const { h, sid, endpoint } = open();
    const poll = h.request(sid, 1001);
    endpoint.push('hello');
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['hello']);
  });

  it('coalesces the stanzas emitted in one turn into one response', () => {
    const { h, sid, endpoint } = open();
    const poll = h.request(sid, 1001);
    endpoint.push('a');
    endpoint.push('b');
    endpoint.push('c');
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['a', 'b', 'c']);
  });

  it('keeps a stanza that arrives with nothing held for the next request (never lost)', () => {
    const { h, sid, endpoint } = open();
    endpoint.push('early');
    h.scheduler.runDeferred();
    const next = h.request(sid, 1001);
    expect(next.texts).toEqual(['early']);
  });

  it('releases the oldest held request when a new one exceeds hold (hold=1)', () => {
    const { h, sid } = open();
    const first = h.request(sid, 1001);
    const second = h.request(sid, 1002, "<message xmlns='jabber:client'/>");
    expect(first.answered).toBe(true);
    expect(second.answered).toBe(false);
  });

  it('holds up to hold=2 requests and answers them oldest first', () => {
    const { h, sid, endpoint } = open({}, "wait='10' hold='2' ver='1.11'");
    const a = h.request(sid, 1001);
    const b = h.request(sid, 1002, "<presence xmlns='jabber:client'/>");
    expect(a.answered || b.answered).toBe(false);
    endpoint.push('x');
    h.scheduler.runDeferred();
    expect(a.texts).toEqual(['x']);
    expect(b.answered).toBe(false);
  });

  it('forwards payloads to the stream in order', () => {
    const { h, sid, endpoint } = open();
    h.request(sid, 1001, "<message id='1' xmlns='jabber:client'/><message id='2' xmlns='jabber:client'/>");
    h.request(sid, 1002, "<message id='3' xmlns='jabber:client'/>");
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['1', '2', '3']);
  });

  it('answers the request that carried a stanza with the reply the stream produced at once', () => {
    const { h, sid, endpoint } = open();
    endpoint.receive = (element) => endpoint.output.send(element);
    const exchange = h.request(sid, 1001, "<iq id='echo' type='get' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(exchange.body).toContain('id="echo"');
  });
});

describe('XEP-0124 §14.2 in-order processing', () => {
  it('buffers a request that arrives ahead of a gap and processes both in rid order', () => {
    const { h, sid, endpoint } = open();
    const later = h.request(sid, 1002, "<message id='second' xmlns='jabber:client'/>");
    expect(endpoint.received).toHaveLength(0);
    const earlier = h.request(sid, 1001, "<message id='first' xmlns='jabber:client'/>");
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['first', 'second']);
    // hold=1: the earlier one is answered, the later one held.
    expect(earlier.answered).toBe(true);
    expect(later.answered).toBe(false);
  });

  it('answers a request stuck behind a gap for longer than wait with a recoverable error (§17.3) and HTTP 503', () => {
    const { h, sid, endpoint } = open();
    const later = h.request(sid, 1002, "<message id='second' xmlns='jabber:client'/>");
    h.scheduler.advance(10_000);
    expect(later.attr('type')).toBe('error');
    // Strophe.js and StanzaJS resend a rid only after an HTTP error.
    expect(later.response?.status).toBe(503);
    expect(endpoint.received).toHaveLength(0);
    // The client resends both, and they are processed once each.
    h.request(sid, 1001, "<message id='first' xmlns='jabber:client'/>");
    h.request(sid, 1002, "<message id='second' xmlns='jabber:client'/>");
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['first', 'second']);
  });

  it('answers a rid beyond the window with item-not-found, and the session goes on (§14.3)', () => {
    const { h, sid, endpoint } = open();
    const far = h.request(sid, 1003);
    expect(far.attr('type')).toBe('terminate');
    expect(far.attr('condition')).toBe('item-not-found');
    // Deviation from the letter of §14.3 (as Prosody): a stray request must not end the real client's session.
    const next = h.request(sid, 1001);
    endpoint.push('still here');
    h.scheduler.runDeferred();
    expect(next.texts).toEqual(['still here']);
  });
});

describe('XEP-0124 §14.3 broken connections', () => {
  it('answers a repeated rid with the cached response, byte for byte', () => {
    const { h, sid, endpoint } = open();
    const poll = h.request(sid, 1001);
    endpoint.push('once');
    h.scheduler.runDeferred();
    const again = h.request(sid, 1001);
    expect(again.body).toBe(poll.body);
    expect(endpoint.received).toHaveLength(0);
  });

  it('does not process the payload of a repeated rid twice', () => {
    const { h, sid, endpoint } = open();
    h.request(sid, 1001, "<message id='m' xmlns='jabber:client'/>");
    h.request(sid, 1001, "<message id='m' xmlns='jabber:client'/>");
    expect(endpoint.received).toHaveLength(1);
  });

  it('answers the creation rid again from the cache', () => {
    const h = new Harness();
    const { sid, creation } = h.create();
    const again = h.send(`<body rid='1000' sid='${sid}' xmlns='${NS}'/>`);
    expect(again.body).toBe(creation.body);
  });

  it('gives the old exchange of a repeated, unanswered rid a recoverable error and the new one the data', () => {
    const { h, sid, endpoint } = open();
    const original = h.request(sid, 1001);
    const retry = h.request(sid, 1001);
    expect(original.attr('type')).toBe('error');
    expect(retry.answered).toBe(false);
    endpoint.push('for-retry');
    h.scheduler.runDeferred();
    expect(retry.texts).toEqual(['for-retry']);
  });

  it('keeps a few more responses than requests, then answers item-not-found for a rid no longer buffered', () => {
    const { h, sid } = open();
    for (let rid = 1001; rid <= 1006; rid++) h.request(sid, rid, "<m xmlns='jabber:client'/>");
    // requests=2 (+2 kept): 1002..1005 are answered and buffered, 1006 is held.
    expect(h.request(sid, 1002).attr('type')).toBeUndefined();
    const stale = h.request(sid, 1001);
    expect(stale.attr('condition')).toBe('item-not-found');
  });

  it('answers a held request whose connection dropped, caching it, and keeps queued data for later', () => {
    const { h, sid, endpoint } = open();
    const dropped = h.request(sid, 1001);
    dropped.handle?.aborted();
    expect(dropped.body).toBe(`<body xmlns='${NS}'/>`);
    endpoint.push('later');
    h.scheduler.runDeferred();
    // The client retries the rid it never got an answer for: same (empty) answer, nothing lost.
    expect(h.request(sid, 1001).body).toBe(`<body xmlns='${NS}'/>`);
    expect(h.request(sid, 1002).texts).toEqual(['later']);
  });

  it('responds exactly once to every exchange', () => {
    const { h, sid, endpoint } = open();
    const exchanges = [h.request(sid, 1001), h.request(sid, 1001), h.request(sid, 1002, "<m xmlns='jabber:client'/>")];
    endpoint.push('x');
    h.scheduler.advance(60_000);
    for (const exchange of exchanges) expect(exchange.count).toBe(1);
  });
});

describe('XEP-0124 §10 inactivity and pause', () => {
  it('ends the session silently after inactivity with nothing held', () => {
    const { h, sid, endpoint } = open({ inactivity: 30 });
    h.scheduler.advance(29_999);
    expect(h.transport.session(sid)).toBeDefined();
    h.scheduler.advance(1);
    expect(h.transport.session(sid)).toBeUndefined();
    expect(endpoint.ended?.reason).toBe('inactivity');
    expect(h.request(sid, 1001).attr('condition')).toBe('item-not-found');
  });

  it('never counts inactivity while a request is held', () => {
    const { h, sid } = open({ inactivity: 5 }, "wait='60' hold='1' ver='1.11'");
    h.request(sid, 1001);
    h.scheduler.advance(59_000);
    expect(h.transport.session(sid)).toBeDefined();
  });

  it('answers all held requests on pause and stretches inactivity to the pause', () => {
    const { h, sid, endpoint } = open({ inactivity: 30, maxPause: 120 }, "wait='10' hold='2' ver='1.11'");
    const held = h.request(sid, 1001);
    endpoint.push('queued');
    h.scheduler.runDeferred();
    const held2 = h.request(sid, 1002);
    const pause = h.request(sid, 1003, '', "pause='100'");
    expect(held.texts).toEqual(['queued']);
    expect(held2.answered).toBe(true);
    expect(pause.body).toBe(`<body xmlns='${NS}'/>`);
    h.scheduler.advance(99_000);
    expect(h.transport.session(sid)).toBeDefined();
    h.scheduler.advance(1_000);
    expect(h.transport.session(sid)).toBeUndefined();
  });

  it('goes back to the normal inactivity on the next request after a pause', () => {
    const { h, sid } = open({ inactivity: 30, maxPause: 120 });
    h.request(sid, 1001, '', "pause='100'");
    h.scheduler.advance(50_000);
    h.request(sid, 1002, "<m xmlns='jabber:client'/>");
    h.scheduler.advance(10_000); // wait answers the held request
    h.scheduler.advance(30_000);
    expect(h.transport.session(sid)).toBeUndefined();
  });

  it('terminates a pause above maxpause with policy-violation', () => {
    const { h, sid } = open({ maxPause: 120 });
    expect(h.request(sid, 1001, '', "pause='121'").attr('condition')).toBe('policy-violation');
    expect(h.transport.session(sid)).toBeUndefined();
  });
});

describe('XEP-0124 §13 terminate', () => {
  it('forwards the payloads, answers the held request, acknowledges, and forgets the sid', () => {
    const { h, sid, endpoint } = open();
    const held = h.request(sid, 1001);
    const bye = h.request(sid, 1002, "<presence type='unavailable' xmlns='jabber:client'/>", "type='terminate'");
    expect(endpoint.received.map((e) => e.attrs.type)).toEqual(['unavailable']);
    expect(held.answered).toBe(true);
    expect(bye.attr('type')).toBe('terminate');
    expect(endpoint.ended?.reason).toBe('terminate');
    expect(h.transport.session(sid)).toBeUndefined();
    expect(h.request(sid, 1003).attr('condition')).toBe('item-not-found');
  });
});

describe('XEP-0124 §11 overactivity and §12 polling', () => {
  it('terminates more simultaneous requests than requests allows with policy-violation', () => {
    const { h, sid } = open({}, "wait='10' hold='1' ver='1.11'");
    h.request(sid, 1001); // held
    h.request(sid, 1003); // ahead of a gap: two unanswered
    const third = h.request(sid, 1002, "<m xmlns='jabber:client'/>");
    expect(third.attr('condition')).toBe('policy-violation');
  });

  it('allows one extra request when it terminates (§11)', () => {
    const { h, sid } = open();
    h.request(sid, 1001);
    h.request(sid, 1003, '', "type='terminate'");
    const filler = h.request(sid, 1002, "<m xmlns='jabber:client'/>");
    expect(filler.attr('condition')).not.toBe('policy-violation');
  });

  it('answers the held poll when a second empty request comes at once, ending nothing (held session, §8)', () => {
    const { h, sid } = open({ polling: 2 }, "wait='10' hold='1' ver='1.11'");
    const first = h.request(sid, 1001);
    h.scheduler.advance(500);
    const second = h.request(sid, 1002);
    expect(first.body).toBe(`<body xmlns='${NS}'/>`);
    expect(second.answered).toBe(false);
    expect(h.transport.session(sid)).toBeDefined();
  });

  it('accepts the same empty request after polling seconds', () => {
    const { h, sid } = open({ polling: 2 }, "wait='10' hold='1' ver='1.11'");
    const first = h.request(sid, 1001);
    h.scheduler.advance(2_000);
    const second = h.request(sid, 1002);
    expect(first.attr('type')).toBeUndefined();
    expect(second.answered).toBe(false);
  });

  it('accepts a payload request sent at once while one is held (the normal way to send)', () => {
    const { h, sid } = open({ polling: 2 });
    h.request(sid, 1001);
    const send = h.request(sid, 1002, "<message xmlns='jabber:client'/>");
    expect(send.attr('condition')).toBeUndefined();
  });

  it('terminates a polling session (hold=0) that polls twice within polling after an empty answer', () => {
    const { h, sid } = open({ polling: 2 }, "wait='10' hold='0' ver='1.11'");
    const first = h.request(sid, 1001);
    expect(first.body).toBe(`<body xmlns='${NS}'/>`);
    h.scheduler.advance(1_000);
    expect(h.request(sid, 1002).attr('condition')).toBe('policy-violation');
  });

  it('lets a polling session poll every polling seconds, and answers polls at once', () => {
    const { h, sid, endpoint } = open({ polling: 2, inactivity: 30 }, "wait='10' hold='0' ver='1.11'");
    for (let rid = 1001; rid < 1010; rid++) {
      h.scheduler.advance(2_000);
      const poll = h.request(sid, rid);
      expect(poll.answered).toBe(true);
    }
    endpoint.push('polled');
    h.scheduler.runDeferred();
    h.scheduler.advance(2_000);
    expect(h.request(sid, 1010).texts).toEqual(['polled']);
  });

  it('gives a polling session an inactivity longer than polling (§12)', () => {
    const h = new Harness({ polling: 30, inactivity: 10 });
    expect(h.create("wait='10' hold='0' ver='1.11'").creation.attr('inactivity')).toBe('60');
  });
});

describe('XEP-0124 §15 keys', () => {
  const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

  it('processes requests with the right key and answers a wrong one with item-not-found', () => {
    const k0 = 'k0';
    const k1 = sha1(k0);
    const k2 = sha1(k1);
    const h = new Harness();
    const { sid } = h.create(`wait='10' hold='1' ver='1.11' newkey='${k2}'`);
    expect(h.request(sid, 1001, "<m xmlns='jabber:client'/>", `key='${k1}'`).attr('condition')).toBeUndefined();
    expect(h.request(sid, 1002, "<m xmlns='jabber:client'/>", "key='wrong'").attr('condition')).toBe('item-not-found');
  });

  it('terminates a keyed session whose request carries no key', () => {
    const h = new Harness();
    const { sid } = h.create(`wait='10' hold='1' ver='1.11' newkey='${sha1('x')}'`);
    expect(h.request(sid, 1001).attr('condition')).toBe('item-not-found');
  });
});

describe('XEP-0124 §9 acknowledgements', () => {
  it('acknowledges the creation rid and reports the highest rid received when it differs', () => {
    const h = new Harness();
    const { sid, creation } = h.create("wait='10' hold='1' ver='1.11' ack='1'");
    expect(creation.attr('ack')).toBe('1000');
    const held = h.request(sid, 1001, '', "ack='1000'");
    h.request(sid, 1002, "<m xmlns='jabber:client'/>", "ack='1000'");
    // The held 1001 is answered while 1002 has been received: ack='1002'.
    expect(held.attr('ack')).toBe('1002');
  });

  it('reports a response the client has not acknowledged after a while (report/time)', () => {
    const h = new Harness();
    const { sid } = h.create("wait='10' hold='1' ver='1.11' ack='1'");
    h.request(sid, 1001, "<m xmlns='jabber:client'/>", "ack='1000'");
    const second = h.request(sid, 1002, "<m xmlns='jabber:client'/>", "ack='1000'"); // answers 1001
    h.scheduler.advance(1_500);
    // The client says it still has only 1000: the answer to 1001 went missing 1.5 s ago.
    h.request(sid, 1003, "<m xmlns='jabber:client'/>", "ack='1000'");
    expect(second.attr('report')).toBe('1001');
    expect(second.attr('time')).toBe('1500');
    // And the missing response is still there to be asked for again.
    expect(h.request(sid, 1001).attr('type')).toBeUndefined();
  });

  it('drops acknowledged responses from the buffer', () => {
    const h = new Harness();
    const { sid } = h.create("wait='10' hold='1' ver='1.11' ack='1'");
    h.request(sid, 1001, "<m xmlns='jabber:client'/>", "ack='1000'");
    h.request(sid, 1002, "<m xmlns='jabber:client'/>", "ack='1000'"); // answers 1001
    h.request(sid, 1003, "<m xmlns='jabber:client'/>", "ack='1001'"); // the client has 1001
    expect(h.request(sid, 1001).attr('condition')).toBe('item-not-found');
  });
});

describe('stream endings through the transport', () => {
  it('sends a stream error as remote-stream-error with <stream:error/> (XEP-0206 §7)', () => {
    const { h, sid, endpoint } = open();
    const held = h.request(sid, 1001);
    const error = new Element('stream:error').c('conflict', { xmlns: 'urn:ietf:params:xml:ns:xmpp-streams' }).up();
    endpoint.output.close(error);
    expect(held.attr('type')).toBe('terminate');
    expect(held.attr('condition')).toBe('remote-stream-error');
    expect(held.body).toContain("xmlns:stream='http://etherx.jabber.org/streams'");
    expect(held.body).toContain('<stream:error><conflict');
    expect(h.transport.session(sid)).toBeUndefined();
  });

  it('keeps a server-side close for the next request when nothing is held', () => {
    const { h, sid, endpoint } = open();
    endpoint.push('last words');
    endpoint.output.close();
    const next = h.request(sid, 1001);
    expect(next.attr('type')).toBe('terminate');
    expect(next.texts).toEqual(['last words']);
    expect(h.transport.session(sid)).toBeUndefined();
  });

  it('answers every session with system-shutdown when the node stops (§17.2)', () => {
    const { h, sid } = open();
    const held = h.request(sid, 1001);
    h.transport.shutdown();
    expect(held.attr('condition')).toBe('system-shutdown');
    expect(h.create === undefined).toBe(false);
    const late = h.send(`<body rid='1' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`);
    expect(late.attr('condition')).toBe('system-shutdown');
  });

  it('answers a legacy session (no ver) with HTTP 404 for item-not-found (§17.1)', () => {
    const h = new Harness();
    const { sid } = h.create("wait='10' hold='1'");
    const far = h.request(sid, 1005);
    expect(far.response?.status).toBe(404);
  });

  it('leaves other sessions untouched when one ends in error', () => {
    const h = new Harness();
    const a = h.create(undefined, 100);
    const b = h.create(undefined, 500);
    h.request(a.sid, 999);
    const poll = h.request(b.sid, 501);
    b.endpoint.push('still here');
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['still here']);
  });
});

describe('per-stanza size limit', () => {
  it('refuses only the oversized stanza and processes the others of the body', () => {
    const h = new Harness({}, 600);
    const { sid, endpoint } = h.create();
    const big = 'x'.repeat(700);
    h.request(
      sid,
      1001,
      `<message id='ok1' xmlns='jabber:client'/><message id='big' xmlns='jabber:client'><body>${big}</body></message><message id='ok2' xmlns='jabber:client'/>`,
    );
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['ok1', 'ok2']);
    expect(endpoint.refused.map((e) => e.attrs.id)).toEqual(['big']);
    expect(h.transport.session(sid)).toBeDefined();
  });
});
