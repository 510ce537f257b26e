/**
 * The forwarder against real HTTP "owners" on loopback: tiny node:http servers that answer, reset
 * the connection, refuse it or never answer. What the client gets back is what is checked: the
 * owner's answer, a recoverable error (XEP-0124 §17.3, the client resends) or a terminal condition
 * (§17.2), never a terminal one for a hiccup while the owner is alive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BoshResponse } from '../../src/bosh';
import { BoshForwarder, type ForwardObserver, type NodeDirectory } from '../../src/cluster/forwarder';
import { createLogger } from '../../src/observability/logger';
import { freePort } from '../support/redis-server';

const OWNER = 'node-owner';
const SID = `0b6a3c1e-8f7d-4e2a-9c5b-1d2e3f4a5b6c.${OWNER}`;
const BODY = `<body xmlns='http://jabber.org/protocol/httpbind' sid='${SID}' rid='1001'/>`;
const ANSWER = `<body xmlns='http://jabber.org/protocol/httpbind'/>`;
/** Far below any real wait; only reached by the tests about giving up. */
const TIMING = { timeoutMs: 1_000, retryDelayMs: 20 };

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, nth: number) => void;

/** An owner node's HTTP endpoint whose behaviour each test chooses per request. */
class FakeOwner {
  readonly bodies: string[] = [];
  readonly dropped: number[] = [];
  private constructor(
    private readonly server: Server,
    private handler: Handler,
  ) {}

  static async start(handler: Handler, port = 0): Promise<FakeOwner> {
    // Requests arrive only after start() returns, so the handler can read `owner` (declared below).
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const self = owner;
        const nth = self.bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.on('close', () => {
          if (!res.writableFinished) self.dropped.push(nth);
        });
        self.handler(req, res, self.bodies[nth - 1] as string, nth);
      });
    });
    const owner: FakeOwner = new FakeOwner(server, handler);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return owner;
  }

  set behaviour(handler: Handler) {
    this.handler = handler;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const answer: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
  res.end(ANSWER);
};
const reset: Handler = (req) => req.socket.destroy();
const never: Handler = () => undefined;

/** The heartbeat table as the forwarder sees it: the owner at `url`, alive or not. */
function directory(url: string, alive: () => boolean): NodeDirectory & { livenessChecks: number } {
  const dir = {
    node: 'node-here',
    livenessChecks: 0,
    isAlive: async () => {
      dir.livenessChecks++;
      return alive();
    },
    urlOf: async () => (alive() ? url : null),
    lastKnownUrl: () => url,
  };
  return dir;
}

const outcomes: string[] = [];
const observer: ForwardObserver = { forwarded: (outcome) => outcomes.push(outcome) };
const logger = createLogger('silent');
const noRegistry = { owner: async () => null };
const forwarders: BoshForwarder[] = [];
const owners: FakeOwner[] = [];

function forwarderFor(dir: NodeDirectory, timing = TIMING): BoshForwarder {
  const forwarder = new BoshForwarder(noRegistry, dir, '/http-bind', 'secret', logger, observer, timing);
  forwarders.push(forwarder);
  return forwarder;
}

async function owner(handler: Handler, port?: number): Promise<FakeOwner> {
  const started = await FakeOwner.start(handler, port);
  owners.push(started);
  return started;
}

function forward(forwarder: BoshForwarder, sid = SID, body = BODY): Promise<BoshResponse> {
  return new Promise((resolve) => forwarder.forward(sid, body, { remoteAddress: '203.0.113.7' }, resolve));
}

beforeEach(() => {
  outcomes.length = 0;
});

afterEach(async () => {
  for (const f of forwarders.splice(0)) f.close();
  for (const o of owners.splice(0)) await o.close();
});

describe('forwarding a request to the node holding its session', () => {
  it('returns the owner’s answer on the client’s connection, with the client’s address and the cluster secret', async () => {
    let headers: IncomingMessage['headers'] = {};
    const node = await owner((req, res, body, nth) => {
      headers = req.headers;
      answer(req, res, body, nth);
    });
    const response = await forward(forwarderFor(directory(node.url, () => true)));
    expect(response).toEqual({ status: 200, body: ANSWER, contentType: 'text/xml; charset=utf-8' });
    expect(node.bodies).toEqual([BODY]);
    expect(headers['x-bosh-forwarded']).toBe('secret');
    expect(headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(outcomes).toEqual(['ok']);
  });
});

describe('a pooled keep-alive connection the owner resets', () => {
  it('is retried at once on a new connection, and the client gets the owner’s answer (the same body: same rid)', async () => {
    const node = await owner(answer);
    // The ordinary retry waits far longer than this test may run: only the immediate one can pass.
    const forwarder = forwarderFor(
      directory(node.url, () => true),
      { timeoutMs: 120_000, retryDelayMs: 60_000 },
    );
    await forward(forwarder);
    // The next call goes out on the pooled socket, which the owner closes as the request arrives.
    node.behaviour = (req, res, body, nth) => (nth === 2 ? reset(req, res, body, nth) : answer(req, res, body, nth));
    const response = await forward(forwarder);
    expect(response.body).toBe(ANSWER);
    expect(response.recoverable).toBeUndefined();
    expect(node.bodies).toEqual([BODY, BODY, BODY]);
    expect(outcomes).toEqual(['ok', 'ok']);
  });
});

describe('a connection reset while the owner is alive', () => {
  it('is invisible to the client when a retry gets through', async () => {
    const node = await owner((req, res, body, nth) => (nth <= 3 ? reset(req, res, body, nth) : answer(req, res, body, nth)));
    const response = await forward(forwarderFor(directory(node.url, () => true)));
    expect(response.body).toBe(ANSWER);
    expect(node.bodies.length).toBe(4);
    expect(new Set(node.bodies)).toEqual(new Set([BODY]));
  });

  it('gives a recoverable error (type="error", XEP-0124 §17.3, with HTTP 503 so Strophe.js and StanzaJS resend the rid), never a terminal one, when it lasts until the timeout', async () => {
    const node = await owner(reset);
    const response = await forward(forwarderFor(directory(node.url, () => true)));
    expect(response.recoverable).toBe(true);
    expect(response.status).toBe(503);
    expect(response.body).toMatch(/^<body xmlns='http:\/\/jabber.org\/protocol\/httpbind' type='error'\/>$/);
    expect(response.condition).toBeUndefined();
    expect(node.bodies.length).toBeGreaterThan(1);
    expect(outcomes).toEqual(['failed']);
  });
});

describe('an owner that refuses connections', () => {
  it('is tried again while its heartbeat is alive, and serves the request once it listens again', async () => {
    const port = await freePort();
    const dir = directory(`http://127.0.0.1:${port}`, () => true);
    const forwarder = forwarderFor(dir);
    const pending = forward(forwarder);
    // Wait for the event (a failed attempt asked for liveness), then bring the owner up.
    await waitFor(() => dir.livenessChecks > 0);
    const node = await owner(answer, port);
    const response = await pending;
    expect(response.body).toBe(ANSWER);
    expect(node.bodies).toEqual([BODY]);
  });

  it('ends the session with remote-connection-failed (§17.2) once the owner is known to be dead', async () => {
    const port = await freePort();
    const response = await forward(forwarderFor(directory(`http://127.0.0.1:${port}`, () => false)));
    expect(response.condition).toBe('remote-connection-failed');
    expect(response.body).toMatch(/type='terminate'/);
    expect(outcomes).toEqual(['owner-down']);
  });

  it('is not declared dead on one refused connection: the heartbeat decides', async () => {
    const port = await freePort();
    let alive = true;
    const dir = directory(`http://127.0.0.1:${port}`, () => alive);
    const pending = forward(forwarderFor(dir));
    await waitFor(() => dir.livenessChecks >= 2);
    alive = false;
    const response = await pending;
    expect(response.condition).toBe('remote-connection-failed');
  });
});

describe('an owner that never answers', () => {
  it('gets the call dropped at the timeout (it answers that rid into its cache) and the client a recoverable error', async () => {
    const node = await owner(never);
    const response = await forward(forwarderFor(directory(node.url, () => true)));
    expect(response.recoverable).toBe(true);
    expect(response.body).toMatch(/type='error'/);
    await waitFor(() => node.dropped.length === 1);
    expect(node.dropped).toEqual([1]);
  });
});

describe('the client going away', () => {
  it('drops the forwarded call, and nothing is answered', async () => {
    const node = await owner(never);
    const responses: BoshResponse[] = [];
    const handle = forwarderFor(directory(node.url, () => true)).forward(SID, BODY, { remoteAddress: undefined }, (r) => responses.push(r));
    await waitFor(() => node.bodies.length === 1);
    handle.aborted();
    await waitFor(() => node.dropped.length === 1);
    expect(responses).toEqual([]);
  });
});

describe('a sid no node holds', () => {
  it('gets item-not-found when it names this very node (§17.2)', async () => {
    const response = await forward(forwarderFor(directory('http://127.0.0.1:9', () => true)), '0b6a3c1e-8f7d-4e2a-9c5b-1d2e3f4a5b6c.node-here');
    expect(response.condition).toBe('item-not-found');
    expect(outcomes).toEqual(['unknown']);
  });

  it('gets item-not-found when the registry knows no owner for it', async () => {
    const response = await forward(forwarderFor(directory('http://127.0.0.1:9', () => true)), 'not-a-cluster-sid');
    expect(response.condition).toBe('item-not-found');
  });
});

/** Polls a condition driven by network events (bounded by the test's timeout). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}
