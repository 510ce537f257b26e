import { createHash } from 'node:crypto';
import { Harness, NS } from '../support/bosh-harness';

/**
 * The sid is a bearer secret: a request that cannot be the real client's (rid outside the window,
 * wrong key, a repeat that does not match) gets a terminal item-not-found (XEP-0124 §14.3, §15)
 * addressed to that request only. The session goes on for its real client. Deviation from the
 * letter of the XEP, as Prosody does; ejabberd ends the session.
 */
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

/** A key sequence K(n) = sha1(K(n-1)), used from the end (§15.1). */
function keyChain(length: number): string[] {
  const keys = ['seed'];
  for (let i = 1; i < length; i++) keys.push(sha1(keys[i - 1] as string));
  return keys.reverse();
}

function expectAlive(h: Harness, sid: string, rid: number, extra = ''): void {
  const endpoint = h.endpoints[h.endpoints.length - 1];
  const poll = h.request(sid, rid, '', extra);
  endpoint?.push('alive');
  h.scheduler.runDeferred();
  expect(poll.attr('type')).toBeUndefined();
  expect(poll.texts).toEqual(['alive']);
}

describe('XEP-0124 §14.3 a rid outside the window from someone else', () => {
  it('answers that request with item-not-found and keeps the session for its client', () => {
    const h = new Harness();
    const { sid } = h.create();
    const held = h.request(sid, 1001);
    const stray = h.request(sid, 9_999_999);
    expect(stray.attr('type')).toBe('terminate');
    expect(stray.attr('condition')).toBe('item-not-found');
    expect(held.answered).toBe(false);
    expectAlive(h, sid, 1002);
  });

  it('answers a terminate with a wrong rid with item-not-found and does not end the session (§13)', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create();
    const bye = h.request(sid, 5_000, "<presence type='unavailable' xmlns='jabber:client'/>", "type='terminate'");
    expect(bye.attr('condition')).toBe('item-not-found');
    expect(endpoint.received).toHaveLength(0);
    expect(endpoint.ended).toBeUndefined();
    expectAlive(h, sid, 1001);
  });

  it('answers a repeated rid whose response is gone with item-not-found, session intact', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create();
    for (let rid = 1001; rid <= 1006; rid++) h.request(sid, rid, "<m xmlns='jabber:client'/>");
    expect(h.request(sid, 1001).attr('condition')).toBe('item-not-found');
    expect(endpoint.ended).toBeUndefined();
    expectAlive(h, sid, 1007);
  });

  it('keeps the terminal body of a closing session for the real client', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create();
    endpoint.push('last words');
    endpoint.output.close();
    expect(h.request(sid, 5_000).attr('condition')).toBe('item-not-found');
    const next = h.request(sid, 1001);
    expect(next.attr('type')).toBe('terminate');
    expect(next.texts).toEqual(['last words']);
  });
});

describe('XEP-0124 §15 keys checked for every request, repeats included', () => {
  it('answers a wrong key with item-not-found without consuming the rid or the key sequence', () => {
    const keys = keyChain(5);
    const h = new Harness();
    const { sid, endpoint } = h.create(`wait='10' hold='1' ver='1.11' newkey='${keys[0]}'`);
    const forged = h.request(sid, 1001, "<message id='forged' xmlns='jabber:client'/>", "key='0000'");
    expect(forged.attr('condition')).toBe('item-not-found');
    expect(endpoint.received).toHaveLength(0);
    // The real client's request with the same rid and the right key is processed.
    const real = h.request(sid, 1001, "<message id='real' xmlns='jabber:client'/>", `key='${keys[1]}'`);
    expect(real.attr('condition')).toBeUndefined();
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['real']);
    expectAlive(h, sid, 1002, `key='${keys[2]}'`);
  });

  it('answers a keyed session request carrying no key with item-not-found, session intact', () => {
    const keys = keyChain(3);
    const h = new Harness();
    const { sid } = h.create(`wait='10' hold='1' ver='1.11' newkey='${keys[0]}'`);
    expect(h.request(sid, 1001).attr('condition')).toBe('item-not-found');
    expectAlive(h, sid, 1001, `key='${keys[1]}'`);
  });

  it('gives a cached response only to a repeat that carries the original key (§14.3)', () => {
    const keys = keyChain(5);
    const h = new Harness();
    const { sid, endpoint } = h.create(`wait='10' hold='1' ver='1.11' newkey='${keys[0]}'`);
    const first = h.request(sid, 1001, '', `key='${keys[1]}'`);
    endpoint.push('secret');
    h.scheduler.runDeferred();
    expect(first.texts).toEqual(['secret']);
    const thief = h.request(sid, 1001);
    expect(thief.attr('condition')).toBe('item-not-found');
    expect(thief.body).not.toContain('secret');
    const retry = h.request(sid, 1001, '', `key='${keys[1]}'`);
    expect(retry.body).toBe(first.body);
    expectAlive(h, sid, 1002, `key='${keys[2]}'`);
  });

  it('does not let a repeat with a wrong key take over a held request', () => {
    const keys = keyChain(5);
    const h = new Harness();
    const { sid, endpoint } = h.create(`wait='10' hold='1' ver='1.11' newkey='${keys[0]}'`);
    const held = h.request(sid, 1001, '', `key='${keys[1]}'`);
    const thief = h.request(sid, 1001, '', "key='feed'");
    expect(thief.attr('condition')).toBe('item-not-found');
    endpoint.push('for the owner');
    h.scheduler.runDeferred();
    expect(held.texts).toEqual(['for the owner']);
  });

  it('checks a key on a request that waited behind a gap when its turn comes', () => {
    const keys = keyChain(5);
    const h = new Harness();
    const { sid, endpoint } = h.create(`wait='10' hold='1' ver='1.11' newkey='${keys[0]}'`);
    const forgedAhead = h.request(sid, 1002, "<message id='forged' xmlns='jabber:client'/>", "key='bad'");
    h.request(sid, 1001, "<message id='one' xmlns='jabber:client'/>", `key='${keys[1]}'`);
    expect(forgedAhead.attr('condition')).toBe('item-not-found');
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['one']);
    h.request(sid, 1002, "<message id='two' xmlns='jabber:client'/>", `key='${keys[2]}'`);
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['one', 'two']);
    expect(endpoint.ended).toBeUndefined();
  });
});

describe('XEP-0124 §8/§11 a client that keeps one poll outstanding', () => {
  it('answers the held stanza request at once when the next poll arrives, ending nothing', () => {
    const h = new Harness({ polling: 2 });
    const { sid, endpoint } = h.create("wait='60' hold='1' ver='1.11'");
    const a = h.request(sid, 1001); // the outstanding poll
    const b = h.request(sid, 1002, "<message id='m1' xmlns='jabber:client'/>"); // answers A, held
    expect(a.body).toBe(`<body xmlns='${NS}'/>`);
    expect(b.answered).toBe(false);
    const c = h.request(sid, 1003); // the client re-polls the instant A lands
    expect(b.attr('type')).toBeUndefined();
    expect(b.answered).toBe(true);
    expect(c.answered).toBe(false);
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['m1']);
    expectAlive(h, sid, 1004);
  });

  it('survives a stanza request and the next poll leaving in the same instant, in either order', () => {
    const h = new Harness({ polling: 2 });
    const { sid, endpoint } = h.create("wait='60' hold='1' ver='1.11'");
    let rid = 1001;
    let held = h.request(sid, rid++);
    for (let i = 0; i < 50; i++) {
      // Something for the client answers its poll; it then sends a stanza and the next poll at once.
      endpoint.push(`s${i}`);
      h.scheduler.runDeferred();
      expect(held.texts).toEqual([`s${i}`]);
      const send = rid++;
      const poll = rid++;
      const swapped = i % 2 === 1;
      const stanza = `<message id='m${i}' xmlns='jabber:client'/>`;
      const first = swapped ? h.request(sid, poll) : h.request(sid, send, stanza);
      const second = swapped ? h.request(sid, send, stanza) : h.request(sid, poll);
      const [sendExchange, pollExchange] = swapped ? [second, first] : [first, second];
      // §8: the stanza request is answered as soon as the poll makes two held; the poll stays.
      expect(sendExchange.attr('type')).toBeUndefined();
      expect(sendExchange.answered).toBe(true);
      expect(pollExchange.answered).toBe(false);
      held = pollExchange;
      h.scheduler.advance(10);
    }
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(endpoint.ended).toBeUndefined();
  });

  it('still ends a session that keeps more unanswered requests than requests allows (§11)', () => {
    const h = new Harness();
    const { sid } = h.create("wait='60' hold='1' ver='1.11'");
    h.request(sid, 1001);
    h.request(sid, 1003);
    expect(h.request(sid, 1004).attr('condition')).toBe('item-not-found');
    expect(h.request(sid, 1002, "<m xmlns='jabber:client'/>").attr('condition')).toBe('policy-violation');
    expect(h.transport.session(sid)).toBeUndefined();
  });

  it('still ends a polling session (hold=0) that polls faster than polling (§12)', () => {
    const h = new Harness({ polling: 2 });
    const { sid } = h.create("wait='60' hold='0' ver='1.11'");
    h.request(sid, 1001);
    h.scheduler.advance(100);
    expect(h.request(sid, 1002).attr('condition')).toBe('policy-violation');
  });
});
