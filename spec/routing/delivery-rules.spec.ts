import { decideDelivery, type CandidateResource, type Delivery } from '../../src/routing/delivery-rules';

/**
 * RFC 6121 §8.5: how a server processes a stanza addressed to one of its own users. Where the RFC lets
 * the server choose (e.g. "silently ignore or return an error"), the test accepts every allowed choice.
 */

const r = (resource: string, priority: number, available = true): CandidateResource => ({ resource, priority, available });

function recipients(delivery: Delivery<CandidateResource>): string[] {
  if (delivery.kind !== 'deliver') throw new Error(`expected delivery, got ${JSON.stringify(delivery)}`);
  return delivery.to.map((c) => c.resource).sort();
}

const bounce = { kind: 'bounce', condition: 'service-unavailable' };
const drop = { kind: 'drop' };

describe('RFC 6121 §8.5.1: a stanza to a user that does not exist', () => {
  it.each([undefined, 'normal', 'chat', 'headline', 'groupchat'])('answers a message of type %s with service-unavailable or ignores it', (type) => {
    expect([bounce, drop]).toContainEqual(decideDelivery('message', type, '', false, []));
    expect([bounce, drop]).toContainEqual(decideDelivery('message', type, 'res', false, []));
  });

  it('never answers a message of type error (RFC 6120 §8.3.1: errors are not answered)', () => {
    expect(decideDelivery('message', 'error', '', false, [])).toEqual(drop);
  });

  it.each([undefined, 'unavailable', 'subscribe', 'probe'])('silently ignores presence of type %s', (type) => {
    expect(decideDelivery('presence', type, '', false, [])).toEqual(drop);
  });

  it.each(['get', 'set'])('answers an iq of type %s with service-unavailable', (type) => {
    expect(decideDelivery('iq', type, '', false, [])).toEqual(bounce);
    expect(decideDelivery('iq', type, 'res', false, [])).toEqual(bounce);
  });

  it.each(['result', 'error'])('ignores an iq of type %s', (type) => {
    expect(decideDelivery('iq', type, '', false, [])).toEqual(drop);
  });
});

describe('RFC 6121 §8.5.2.1.1: a message to the bare JID with available resources', () => {
  it.each([undefined, 'normal', 'chat'])('delivers a message of type %s to the resources of highest non-negative priority', (type) => {
    const resources = [r('low', 1), r('high', 5), r('high2', 5), r('neg', -1)];
    expect(recipients(decideDelivery('message', type, '', true, resources))).toEqual(['high', 'high2']);
  });

  it('delivers to the single non-negative resource when the others are negative', () => {
    expect(recipients(decideDelivery('message', 'chat', '', true, [r('neg', -5), r('zero', 0)]))).toEqual(['zero']);
  });

  it('never delivers to a resource that has not sent initial presence (RFC 6121 §4.2)', () => {
    expect(recipients(decideDelivery('message', 'chat', '', true, [r('quiet', 50, false), r('on', 0)]))).toEqual(['on']);
  });

  it('delivers a headline to every available resource with non-negative priority', () => {
    const resources = [r('a', 1), r('b', 5), r('neg', -1), r('off', 3, false)];
    expect(recipients(decideDelivery('message', 'headline', '', true, resources))).toEqual(['a', 'b']);
  });

  it('answers a groupchat message with service-unavailable', () => {
    expect(decideDelivery('message', 'groupchat', '', true, [r('a', 1)])).toEqual(bounce);
  });

  it('silently ignores a message of type error', () => {
    expect(decideDelivery('message', 'error', '', true, [r('a', 1)])).toEqual(drop);
  });

  it('treats resources that all have negative priority as no available resource: normal and chat go offline (or bounce)', () => {
    const decision = decideDelivery('message', 'chat', '', true, [r('neg', -1), r('neg2', -10)]);
    expect([{ kind: 'offline' }, bounce]).toContainEqual(decision);
  });
});

describe('RFC 6121 §8.5.2.1.2: presence to the bare JID goes to every available resource', () => {
  it.each([undefined, 'unavailable'])('delivers presence of type %s to all available resources', (type) => {
    const resources = [r('a', 1), r('b', 0), r('off', 3, false)];
    expect(recipients(decideDelivery('presence', type, '', true, resources))).toEqual(['a', 'b']);
  });

  it('delivers presence to an available resource even when its priority is negative (priority only steers messages, §4.7.2.3)', () => {
    const resources = [r('a', 1), r('neg', -1)];
    expect(recipients(decideDelivery('presence', undefined, '', true, resources))).toEqual(['a', 'neg']);
  });
});

describe('RFC 6121 §8.5.2.1.3 and §8.5.2.2.3: an iq to the bare JID is answered by the server for the account', () => {
  it.each(['get', 'set'])('hands an iq of type %s to the account, never to a resource', (type) => {
    expect(decideDelivery('iq', type, '', true, [r('a', 1)])).toEqual({ kind: 'account' });
    expect(decideDelivery('iq', type, '', true, [])).toEqual({ kind: 'account' });
  });

  it.each(['result', 'error'])('ignores an iq of type %s', (type) => {
    expect(decideDelivery('iq', type, '', true, [r('a', 1)])).toEqual(drop);
  });
});

describe('RFC 6121 §8.5.2.2: the bare JID with no available resource', () => {
  it.each([undefined, 'normal', 'chat'])('stores a message of type %s offline or answers service-unavailable', (type) => {
    expect([{ kind: 'offline' }, bounce]).toContainEqual(decideDelivery('message', type, '', true, []));
    expect([{ kind: 'offline' }, bounce]).toContainEqual(decideDelivery('message', type, '', true, [r('connected', 1, false)]));
  });

  it('silently ignores a headline', () => {
    expect(decideDelivery('message', 'headline', '', true, [r('connected', 1, false)])).toEqual(drop);
  });

  it('answers a groupchat message with service-unavailable', () => {
    expect(decideDelivery('message', 'groupchat', '', true, [])).toEqual(bounce);
  });

  it('silently ignores a message of type error', () => {
    expect(decideDelivery('message', 'error', '', true, [])).toEqual(drop);
  });

  it.each([undefined, 'unavailable'])('silently ignores presence of type %s', (type) => {
    expect(decideDelivery('presence', type, '', true, [r('connected', 1, false)])).toEqual(drop);
  });
});

describe('RFC 6121 §8.5.3.1: a stanza to a full JID whose resource is connected is delivered to it', () => {
  it.each([
    ['message', undefined],
    ['message', 'chat'],
    ['message', 'groupchat'],
    ['message', 'headline'],
    ['message', 'error'],
    ['presence', undefined],
    ['presence', 'unavailable'],
    ['iq', 'get'],
    ['iq', 'set'],
    ['iq', 'result'],
    ['iq', 'error'],
  ] as const)('delivers a %s of type %s to exactly that resource', (kind, type) => {
    const resources = [r('phone', -1), r('desk', 10)];
    expect(recipients(decideDelivery(kind, type, 'phone', true, resources))).toEqual(['phone']);
  });

  it('delivers to a connected resource that has not sent initial presence', () => {
    expect(recipients(decideDelivery('message', 'chat', 'quiet', true, [r('quiet', 0, false)]))).toEqual(['quiet']);
  });
});

describe('RFC 6121 §8.5.3.2.1: a message to a full JID whose resource is not connected', () => {
  const others = [r('desk', 5), r('tablet', 1)];

  it('treats a chat message as addressed to the bare JID', () => {
    expect(recipients(decideDelivery('message', 'chat', 'gone', true, others))).toEqual(['desk']);
  });

  it('stores a chat message offline or bounces it when no resource is available', () => {
    expect([{ kind: 'offline' }, bounce]).toContainEqual(decideDelivery('message', 'chat', 'gone', true, []));
  });

  it.each([
    ['normal', 'normal'],
    ['normal (no type attribute, RFC 6121 §5.2.2)', undefined],
    ['groupchat', 'groupchat'],
    ['headline', 'headline'],
  ])('ignores a %s message or answers it with an error, never delivering it to another resource', (_name, type) => {
    expect([bounce, drop]).toContainEqual(decideDelivery('message', type, 'gone', true, others));
  });

  it('silently ignores a message of type error', () => {
    expect(decideDelivery('message', 'error', 'gone', true, others)).toEqual(drop);
  });
});

describe('RFC 6121 §8.5.3.2.2 and §8.5.3.2.3: presence and iq to a full JID whose resource is not connected', () => {
  it.each([undefined, 'unavailable'])('silently ignores presence of type %s', (type) => {
    expect(decideDelivery('presence', type, 'gone', true, [r('desk', 5)])).toEqual(drop);
  });

  it.each(['get', 'set'])('answers an iq of type %s with service-unavailable', (type) => {
    expect(decideDelivery('iq', type, 'gone', true, [r('desk', 5)])).toEqual(bounce);
  });

  it.each(['result', 'error'])('does not answer an iq of type %s', (type) => {
    expect(decideDelivery('iq', type, 'gone', true, [r('desk', 5)])).toEqual(drop);
  });
});
