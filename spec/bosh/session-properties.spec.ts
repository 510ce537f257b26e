import fc from 'fast-check';
import type { Exchange } from '../support/bosh-harness';
import { Harness } from '../support/bosh-harness';

/**
 * ARCHITECTURE invariants under random interleavings (XEP-0124 §8, §14): a well-behaved client that
 * sends requests out of order, loses connections and retries, while the server pushes stanzas.
 * Every stanza reaches the client exactly once and in order; every exchange is answered once;
 * never more than `hold` requests are held.
 */
type Op =
  { kind: 'push' } | { kind: 'send'; payload: boolean } | { kind: 'sendPairSwapped' } | { kind: 'abort' } | { kind: 'retry' } | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'push' }),
  fc.boolean().map<Op>((payload) => ({ kind: 'send', payload })),
  fc.constant<Op>({ kind: 'sendPairSwapped' }),
  fc.constant<Op>({ kind: 'abort' }),
  fc.constant<Op>({ kind: 'retry' }),
  fc.integer({ min: 1, max: 4_000 }).map<Op>((ms) => ({ kind: 'advance', ms })),
);

/**
 * `polling` is the server's §12 interval; with `anyPoll` the client sends an empty poll whenever it
 * is within `requests`, also while another request is unanswered (keep-a-poll clients, StanzaJS).
 */
function run(hold: number, ops: Op[], polling = 0, anyPoll = false): void {
  const h = new Harness({ maxHold: 2, inactivity: 60, polling });
  const { sid, endpoint } = h.create(`wait='5' hold='${hold}' ver='1.11'`);
  const requests = Math.max(hold + 1, 2);
  let nextRid = 1001;
  let pushed = 0;
  const outstanding = new Map<number, Exchange>();
  const lost = new Set<number>(); // answered into a dropped connection: the client must retry
  const firstAnswer = new Map<number, string>();

  const collect = (): void => {
    for (const [rid, exchange] of outstanding) {
      if (!exchange.answered) continue;
      expect(exchange.count).toBe(1);
      outstanding.delete(rid);
      if (exchange.attr('type') === 'error') {
        lost.add(rid); // recoverable: resend
        continue;
      }
      expect(exchange.attr('type')).toBeUndefined();
      if (!firstAnswer.has(rid)) firstAnswer.set(rid, exchange.body);
    }
    expect(h.transport.session(sid)?.heldCount ?? 0).toBeLessThanOrEqual(hold);
  };
  const send = (rid: number, payload: boolean): void => {
    const exchange = h.request(sid, rid, payload ? `<message id='c${rid}' xmlns='jabber:client'/>` : '');
    outstanding.set(rid, exchange);
  };
  // Like Strophe, the client never runs more than `requests` rids ahead of its oldest unanswered one.
  const unanswered = (): number => outstanding.size + lost.size;
  const canSend = (count: number): boolean => {
    const oldest = Math.min(nextRid, ...outstanding.keys(), ...lost);
    return unanswered() + count <= requests && nextRid + count - 1 < oldest + requests;
  };

  for (const step of ops) {
    switch (step.kind) {
      case 'push':
        endpoint.push(`s${pushed++}`);
        break;
      case 'send':
        if (canSend(1)) send(nextRid++, step.payload || (!anyPoll && unanswered() > 0));
        break;
      case 'sendPairSwapped':
        if (canSend(2)) {
          send(nextRid + 1, true);
          send(nextRid, true);
          nextRid += 2;
        }
        break;
      case 'abort': {
        const [rid, exchange] = [...outstanding].find(([, e]) => !e.answered) ?? [];
        if (rid !== undefined && exchange) {
          exchange.handle?.aborted();
          outstanding.delete(rid);
          lost.add(rid);
        }
        break;
      }
      case 'retry': {
        const rid = Math.min(...lost);
        if (Number.isFinite(rid)) {
          lost.delete(rid);
          send(rid, true);
        }
        break;
      }
      case 'advance':
        h.scheduler.advance(step.ms);
        break;
    }
    h.scheduler.runDeferred();
    collect();
  }
  // Drain: retry what was lost, let wait answer the rest, then poll for anything left.
  for (let round = 0; round < 10 && (lost.size > 0 || outstanding.size > 0); round++) {
    for (const rid of [...lost].sort((a, b) => a - b)) {
      lost.delete(rid);
      send(rid, true);
    }
    h.scheduler.advance(5_000);
    collect();
  }
  send(nextRid++, false);
  h.scheduler.runDeferred();
  h.scheduler.advance(5_000);
  collect();
  expect(outstanding.size).toBe(0);

  const delivered = [...firstAnswer.entries()].sort(([a], [b]) => a - b).flatMap(([, body]) => [...body.matchAll(/<body>([^<]*)<\/body>/g)].map((m) => m[1]));
  expect(delivered).toEqual(Array.from({ length: pushed }, (_, i) => `s${i}`));
  const forwarded = endpoint.received.map((e) => e.attrs.id as string);
  expect(new Set(forwarded).size).toBe(forwarded.length);
  expect(forwarded).toEqual([...forwarded].sort());
}

describe('session invariants under random interleavings (fast-check)', () => {
  it('delivers every stanza exactly once, in order, with hold=1', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => run(1, ops)),
      { numRuns: 300 },
    );
  });

  it('delivers every stanza exactly once, in order, with hold=2', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => run(2, ops)),
      { numRuns: 300 },
    );
  });
});

describe('no terminal answer for any interleaving within requests (XEP-0124 §11, fast-check)', () => {
  // Empty polls and stanza requests in any order and at any pace, pairs sent in the same instant and
  // swapped, aborted connections and retries, with the server's polling interval in force: a client
  // that keeps within `requests` is never ended (every answer is checked for type='terminate').
  it('never ends a hold=1 session', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(1, ops, 2, true)),
      { numRuns: 300 },
    );
  });

  it('never ends a hold=2 session', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(2, ops, 2, true)),
      { numRuns: 300 },
    );
  });
});

describe('two requests leaving the client in the same instant while stanzas are pushed', () => {
  it('never stalls until wait and never loses an answer (the race ejabberd 23.01 sometimes loses)', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='60' hold='1' ver='1.11'");
    const poll = h.request(sid, 1001);
    // A stanza is being pushed while two requests from the client arrive back to back, in reverse.
    endpoint.push('m1');
    const b = h.request(sid, 1003, "<message xmlns='jabber:client'/>");
    endpoint.push('m2');
    const a = h.request(sid, 1002, "<message xmlns='jabber:client'/>");
    endpoint.push('m3');
    h.scheduler.runDeferred();
    const answered = [poll, a, b].filter((e) => e.answered);
    const texts = [poll, a, b].flatMap((e) => (e.answered ? e.texts : []));
    expect(texts).toEqual(['m1', 'm2', 'm3']);
    // No time has passed: everything pushed is already out, each exchange answered once.
    expect(answered.length).toBe(3);
    for (const exchange of [poll, a, b]) expect(exchange.count).toBe(1);
    expect(h.transport.session(sid)?.heldCount).toBe(0);
  });
});
