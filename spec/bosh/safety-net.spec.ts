import { Element } from 'ltx';
import { guardedScheduler } from '../../src/bosh/guarded-scheduler';
import { BoshTransport } from '../../src/bosh/transport';
import type { BoshSession } from '../../src/bosh/session';
import type { StreamOutput } from '../../src/base/stream';
import { DEFAULT_LIMITS, Exchange, NS, RecordingEndpoint } from '../support/bosh-harness';
import { FakeScheduler } from '../support/fake-scheduler';

/** An endpoint whose receive() throws for a payload named <boom/>: a bug in the layer above. */
class FaultyEndpoint extends RecordingEndpoint {
  override receive(element: Element): void {
    if (element.name === 'boom') throw new Error('handler bug');
    super.receive(element);
  }
}

/** A stanza whose serialisation throws (reading one of its attributes fails): a fault while the session builds a response. */
function poisonedElement(): Element {
  const element = new Element('message');
  Object.defineProperty(element.attrs, 'to', {
    enumerable: true,
    get: () => {
      throw new RangeError('cannot serialise');
    },
  });
  return element;
}

/** Two or more sessions on one transport, a fake clock, and a record of every fault reported. */
class Node {
  readonly scheduler = new FakeScheduler();
  readonly endpoints: FaultyEndpoint[] = [];
  readonly faults: Array<{ session: BoshSession | undefined; err: unknown; where: string }> = [];
  readonly transport: BoshTransport;

  constructor(maxQueuedStanzas?: number) {
    this.transport = new BoshTransport({
      limits: DEFAULT_LIMITS,
      domains: new Set(['localhost']),
      maxStanzaBytes: 65_536,
      maxQueuedStanzas,
      scheduler: this.scheduler,
      openStream: (output: StreamOutput) => {
        const endpoint = new FaultyEndpoint(output);
        this.endpoints.push(endpoint);
        return endpoint;
      },
    });
    this.transport.onSessionFault((session, err, where) => this.faults.push({ session, err, where }));
  }

  send(raw: string): Exchange {
    const exchange = new Exchange();
    exchange.handle = this.transport.handle(raw, { remoteAddress: '127.0.0.1' }, (response) => {
      exchange.count++;
      exchange.response = response;
    });
    this.scheduler.runDeferred();
    return exchange;
  }

  create(rid: number): { sid: string; endpoint: FaultyEndpoint } {
    const creation = this.send(
      `<body rid='${rid}' to='localhost' wait='10' hold='1' ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='${NS}'/>`,
    );
    const sid = creation.attr('sid');
    if (!sid) throw new Error(`no session: ${creation.response?.body}`);
    return { sid, endpoint: this.endpoints[this.endpoints.length - 1] as FaultyEndpoint };
  }

  request(sid: string, rid: number, inner = ''): Exchange {
    return this.send(`<body rid='${rid}' sid='${sid}' xmlns='${NS}'>${inner}</body>`);
  }
}

/** A session keeps working: a message pushed to it arrives on its next request. */
function expectWorking(node: Node, sid: string, endpoint: RecordingEndpoint, rid: number): void {
  const poll = node.request(sid, rid);
  endpoint.push('still here');
  node.scheduler.runDeferred();
  expect(poll.texts).toEqual(['still here']);
}

describe('a fault while handling a request ends that session alone (the safety net)', () => {
  it('answers the request with internal-server-error, forgets the session, and reports the fault with the session', () => {
    const node = new Node();
    const alice = node.create(100);
    const bob = node.create(500);

    const faulty = node.request(alice.sid, 101, '<boom/>');
    expect(faulty.attr('type')).toBe('terminate');
    expect(faulty.attr('condition')).toBe('internal-server-error');
    expect(node.transport.session(alice.sid)).toBeUndefined();
    expect(alice.endpoint.ended?.reason).toBe('error');
    expect(node.faults).toHaveLength(1);
    expect(node.faults[0]?.session?.sid).toBe(alice.sid);
    expect((node.faults[0]?.err as Error).message).toBe('handler bug');

    expectWorking(node, bob.sid, bob.endpoint, 501);
    // The ended session's sid is unknown from now on (XEP-0124 §17.2).
    expect(node.request(alice.sid, 102).attr('condition')).toBe('item-not-found');
  });

  it('answers a fault outside any session (before a session is found) with internal-server-error, and every session goes on', () => {
    const node = new Node();
    const bob = node.create(500);
    const throwingRemote = new BoshTransport({
      limits: DEFAULT_LIMITS,
      domains: new Set(['localhost']),
      maxStanzaBytes: 65_536,
      scheduler: node.scheduler,
      openStream: (output) => new RecordingEndpoint(output),
      remote: () => {
        throw new Error('forwarding bug');
      },
    });
    const faults: string[] = [];
    throwingRemote.onSessionFault((session, _err, where) => faults.push(`${session === undefined ? 'no session' : 'session'} ${where}`));
    let answer: string | undefined;
    throwingRemote.handle(`<body rid='1' sid='elsewhere' xmlns='${NS}'/>`, { remoteAddress: '127.0.0.1' }, (response) => {
      answer = response.body;
    });
    expect(answer).toContain("condition='internal-server-error'");
    expect(faults).toEqual(['no session request']);
    expectWorking(node, bob.sid, bob.endpoint, 501);
  });
});

describe('a fault in a session timer or deferred flush ends that session alone', () => {
  it('ends the session whose response could not be built with internal-server-error on its held request; the other session goes on', () => {
    const node = new Node();
    const alice = node.create(100);
    const bob = node.create(500);
    const held = node.request(alice.sid, 101);
    expect(held.answered).toBe(false);

    alice.endpoint.output.send(poisonedElement());
    node.scheduler.runDeferred();

    expect(held.attr('condition')).toBe('internal-server-error');
    expect(node.transport.session(alice.sid)).toBeUndefined();
    // What could not be delivered goes back to the stream layer, not into the void.
    expect(alice.endpoint.ended?.undelivered.map((e) => e.name)).toEqual(['message']);
    expect(node.faults.map((f) => f.where)).toEqual(['timer']);
    expectWorking(node, bob.sid, bob.endpoint, 501);
  });

  it('runs every timer callback of a session under the guard, reporting a throw instead of raising it', () => {
    const scheduler = new FakeScheduler();
    const faults: unknown[] = [];
    const guarded = guardedScheduler(scheduler, (err) => faults.push(err));
    const ran: string[] = [];
    guarded.setTimeout(() => {
      throw new Error('timer bug');
    }, 1000);
    guarded.setTimeout(() => ran.push('later timer'), 2000);
    expect(() => scheduler.advance(3000)).not.toThrow();
    expect((faults[0] as Error).message).toBe('timer bug');
    expect(ran).toEqual(['later timer']);
  });

  it('still forgets the sid when the stream endpoint throws while being told the session ended', () => {
    const node = new Node();
    const alice = node.create(100);
    alice.endpoint.end = () => {
      throw new Error('end bug');
    };
    // XEP-0124 §10: with nothing held, the session ends after the inactivity period.
    node.scheduler.advance(DEFAULT_LIMITS.inactivity * 1000 + 1);
    expect(node.transport.session(alice.sid)).toBeUndefined();
    expect(node.faults.map((f) => f.where)).toEqual(['end']);
  });
});

describe('queued output per session is bounded (MAX_QUEUED_STANZAS)', () => {
  it('ends a session whose client stops collecting its output with policy-violation, handing every queued stanza back as undelivered', () => {
    const node = new Node(5);
    const alice = node.create(100);
    const bob = node.create(500);
    // Alice holds no request: everything sent to her waits in her queue.
    for (let i = 0; i < 5; i++) alice.endpoint.push(`m${i}`);
    expect(node.transport.session(alice.sid)).toBeDefined();
    expect(alice.endpoint.ended).toBeUndefined();

    alice.endpoint.push('one too many');

    expect(node.transport.session(alice.sid)).toBeUndefined();
    expect(alice.endpoint.ended?.reason).toBe('error');
    // Nothing dropped silently: all six go back to the stream layer, to be re-routed or bounced.
    expect(alice.endpoint.ended?.undelivered.map((e) => e.getChildText('body'))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'one too many']);
    expectWorking(node, bob.sid, bob.endpoint, 501);
  });

  it('answers a request held at the moment of overflow with policy-violation', () => {
    const node = new Node(3);
    const alice = node.create(100);
    const held = node.request(alice.sid, 101);
    // Output produced in one turn is flushed after it: four stanzas in one turn overflow a bound of three.
    for (let i = 0; i < 4; i++) alice.endpoint.push(`m${i}`);
    expect(held.attr('condition')).toBe('policy-violation');
  });

  it('never trips for a client that keeps polling, however much it receives', () => {
    const node = new Node(3);
    const alice = node.create(100);
    let rid = 101;
    for (let round = 0; round < 10; round++) {
      const poll = node.request(alice.sid, rid++);
      for (let i = 0; i < 3; i++) alice.endpoint.push(`r${round}-${i}`);
      node.scheduler.runDeferred();
      expect(poll.texts).toHaveLength(3);
    }
    expect(alice.endpoint.ended).toBeUndefined();
  });
});
