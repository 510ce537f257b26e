import { Agent, request, type ClientRequest } from 'node:http';
import {
  BoshError,
  errorResponse,
  FORWARDED_HEADER,
  realScheduler,
  recoverableErrorResponse,
  type BoshResponse,
  type RequestContext,
  type RequestHandle,
  type Responder,
  type Scheduler,
  type TimerHandle,
} from '../bosh';
import type { Logger } from '../observability/logger';
import type { Membership } from './membership';
import type { SessionRegistry } from './session-registry';

export interface ForwardObserver {
  forwarded(outcome: 'ok' | 'unknown' | 'owner-down' | 'failed', seconds: number): void;
}

/** What the forwarder asks about the cluster's nodes (the heartbeat table in production). */
export type NodeDirectory = Pick<Membership, 'node' | 'isAlive' | 'urlOf' | 'lastKnownUrl'>;

/** Where a sid of another form than `<uuid>.<node>` lives (the Redis registry in production). */
export type SidDirectory = Pick<SessionRegistry, 'owner'>;

export interface ForwardTiming {
  /**
   * A forwarded request still unanswered after this long gets a recoverable error. It must be a
   * little above the longest `wait` a session can have (BOSH_MAX_WAIT): the owner answers every
   * held request within `wait`, so only a lost request or a stuck owner gets this far.
   */
  readonly timeoutMs: number;
  /** Pause before trying a live owner again after a failed attempt. */
  readonly retryDelayMs: number;
}

/** Above the default BOSH_MAX_WAIT (60 s); the cluster passes its own (config.ts) value. */
export const DEFAULT_FORWARD_TIMING: ForwardTiming = { timeoutMs: 65_000, retryDelayMs: 200 };

/** Seconds above BOSH_MAX_WAIT before a forwarded request is given up. */
export const FORWARD_TIMEOUT_MARGIN_SECONDS = 5;

// Pooled sockets idle this long are closed by us before the owner's keep-alive timeout (75 s,
// app.ts) closes them, so a reused socket is rarely one the owner is closing at that instant.
const IDLE_SOCKET_MS = 60_000;

type Outcome = 'ok' | 'unknown' | 'owner-down' | 'failed';

/** Where a sid's owner can be reached now, or why it cannot. */
type Location = { kind: 'url'; owner: string; url: string } | { kind: 'unknown' } | { kind: 'owner-down' } | { kind: 'unreachable'; owner: string };

/**
 * Serves a BOSH request that reached a node which does not hold its session: the raw body goes to
 * the owner over an internal HTTP call and the owner's answer returns on the client's own
 * connection. The owner holds the forwarded request exactly as it would hold the client's, so hold
 * and wait keep their meaning; if the client goes away, the forwarded request is dropped too.
 *
 * A failed internal call is retried, and that is safe whatever the owner already did with it: a
 * repeated rid is answered from the owner's response cache or takes over the request still waiting
 * there (XEP-0124 §14.3), and the owner processes rids strictly in order whichever node they came
 * through (§14.2). The client only hears of a hiccup when retrying could not help:
 *  - the owner is known to be dead (its heartbeat lapsed): terminal remote-connection-failed, the
 *    client must log in again (one refused connection is not enough to say so);
 *  - nothing came back within the timeout: a recoverable error (§17.3), the client resends.
 */
export class BoshForwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4096, keepAliveMsecs: 30_000, timeout: IDLE_SOCKET_MS });
  /** Where each node was last seen listening: forwarding goes on while Redis is down. */
  private readonly urls = new Map<string, string>();
  /** Forwarded requests not answered yet, each with the way to hand it back to its client. */
  private readonly pending = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly registry: SidDirectory,
    private readonly membership: NodeDirectory,
    private readonly boshPath: string,
    private readonly secret: string,
    private readonly logger: Logger,
    private readonly observer: ForwardObserver,
    private readonly timing: ForwardTiming = DEFAULT_FORWARD_TIMING,
    private readonly scheduler: Scheduler = realScheduler,
  ) {}

  forward(sid: string, raw: string, context: RequestContext, respond: Responder): RequestHandle {
    // This node is leaving: the client resends the same rid, and nginx sends it to another node.
    if (this.closed) {
      respond({ ...recoverableErrorResponse(), status: 503 });
      return { aborted: () => undefined };
    }
    const started = this.scheduler.now();
    let outgoing: ClientRequest | undefined;
    let retry: TimerHandle | undefined;
    let over = false;
    let attempts = 0;

    const finish = (outcome: Outcome, response: BoshResponse): void => {
      if (over) return;
      over = true;
      this.pending.delete(handBack);
      this.scheduler.clearTimeout(deadline);
      if (retry) this.scheduler.clearTimeout(retry);
      this.observer.forwarded(outcome, (this.scheduler.now() - started) / 1000);
      respond(response);
    };
    const terminal = (outcome: Outcome, error: BoshError): void => finish(outcome, errorResponse(error, false));
    const recoverable = (why: string): void => {
      // Logged at debug: a node that stops produces one per held request.
      this.logger.debug({ why, attempts }, 'forwarding gave up; the client resends');
      // HTTP 503 around the §17.3 body: Strophe.js and StanzaJS ignore type='error' (they read it as an
      // empty answer and move on to the next rid, losing this one if it never reached the owner), but
      // both resend the same rid after a 5xx, as they would after any proxy failure.
      finish('failed', { ...recoverableErrorResponse(), status: 503 });
    };

    const deadline = this.scheduler.setTimeout(() => {
      if (over) return;
      // The owner sees the dropped call as an abort and answers that request into its cache (§14.3),
      // so the resent rid gets its answer from there.
      outgoing?.destroy();
      recoverable(`no answer within ${this.timing.timeoutMs} ms`);
    }, this.timing.timeoutMs);

    const attempt = async (mayRetryStaleSocket: boolean): Promise<void> => {
      attempts++;
      const location = await this.locate(sid);
      if (over) return;
      // §17.2: an unknown sid; the owner's own table is the authority for its sessions.
      if (location.kind === 'unknown') return terminal('unknown', new BoshError('item-not-found', 'unknown sid'));
      // The owner's heartbeat lapsed: the client must log in again.
      if (location.kind === 'owner-down') return terminal('owner-down', new BoshError('remote-connection-failed', 'the node holding this session is down'));
      if (location.kind === 'unreachable') return retryLater(location.owner, 'no address known for the owner (Redis unavailable)');
      const { owner, url } = location;
      outgoing = this.post(url, raw, context, {
        answered: (response) => finish('ok', response),
        failed: (err, staleSocket) => {
          if (over) return;
          // The owner may have moved (restarted elsewhere) or died: ask Redis next time.
          this.urls.delete(owner);
          // A pooled connection the owner closed as we wrote to it: the request never got there.
          if (staleSocket && mayRetryStaleSocket) return void attempt(false);
          retryLater(owner, err.message);
        },
      });
    };

    /** A failed attempt: terminal only if the owner is known to be dead, else try again shortly. */
    const retryLater = (owner: string, why: string): void => {
      this.logger.debug({ owner, why, attempts }, 'forwarding attempt failed');
      if (!owner) return schedule();
      this.membership.isAlive(owner).then(
        (alive) => {
          if (over) return;
          if (!alive) terminal('owner-down', new BoshError('remote-connection-failed', 'the node holding this session is down'));
          else schedule();
        },
        // Redis is down: liveness is unknown, so keep trying until the deadline.
        () => schedule(),
      );
    };
    const schedule = (): void => {
      if (over) return;
      retry = this.scheduler.setTimeout(() => {
        retry = undefined;
        if (!over) void attempt(true);
      }, this.timing.retryDelayMs);
    };

    // At shutdown: the owner sees the dropped call as an abort and keeps the answer for the resent rid (§14.3).
    const handBack = (): void => {
      outgoing?.destroy();
      recoverable('this node is stopping');
    };
    this.pending.add(handBack);
    void attempt(true);

    return {
      aborted: () => {
        if (over) return;
        over = true;
        this.pending.delete(handBack);
        this.scheduler.clearTimeout(deadline);
        if (retry) this.scheduler.clearTimeout(retry);
        outgoing?.destroy();
      },
    };
  }

  /** This node is leaving: requests still being forwarded are handed back to their clients to resend (HTTP 503). */
  close(): void {
    this.closed = true;
    for (const handBack of [...this.pending]) handBack();
    this.agent.destroy();
  }

  /** The owner named in the sid (or, for sids of another form, in the registry) and its address. */
  private async locate(sid: string): Promise<Location> {
    // The owner is named in the sid itself; the registry is asked only for sids of another form.
    let owner = ownerOfSid(sid);
    try {
      owner ??= await this.registry.owner(sid);
      if (!owner || owner === this.membership.node) return { kind: 'unknown' };
      // A live owner's address is cached (liveness from the heartbeat cache); Redis only on a miss.
      const known = this.urls.get(owner);
      if (known && (await this.membership.isAlive(owner))) return { kind: 'url', owner, url: known };
      const url = await this.membership.urlOf(owner);
      if (url === null) {
        this.urls.delete(owner);
        return { kind: 'owner-down' };
      }
      // Its heartbeat is missing but not for a TTL yet (a Redis restart looks like this): try again.
      if (url === undefined) return { kind: 'unreachable', owner };
      this.urls.set(owner, url);
      return { kind: 'url', owner, url };
    } catch {
      // Redis is down: a node seen alive keeps its address.
      if (!owner) return { kind: 'unreachable', owner: '' };
      if (owner === this.membership.node) return { kind: 'unknown' };
      const url = this.urls.get(owner) ?? this.membership.lastKnownUrl(owner);
      return url ? { kind: 'url', owner, url } : { kind: 'unreachable', owner };
    }
  }

  /** One internal call; `failed` tells whether the error came from a reused pooled socket being reset. */
  private post(
    url: string,
    raw: string,
    context: RequestContext,
    handlers: { answered(response: BoshResponse): void; failed(err: Error, staleSocket: boolean): void },
  ): ClientRequest {
    // A reset can surface on both the request and the response: each call settles once.
    let settled = false;
    const on = {
      answered: (response: BoshResponse): void => {
        if (settled) return;
        settled = true;
        handlers.answered(response);
      },
      failed: (err: Error, staleSocket: boolean): void => {
        if (settled) return;
        settled = true;
        handlers.failed(err, staleSocket);
      },
    };
    const outgoing = request(
      `${url}${this.boshPath}`,
      {
        method: 'POST',
        agent: this.agent,
        headers: {
          'Content-Type': 'text/xml; charset=utf-8',
          'Content-Length': Buffer.byteLength(raw),
          [FORWARDED_HEADER]: this.secret,
          ...(context.remoteAddress ? { 'X-Forwarded-For': context.remoteAddress } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          on.answered({ status: res.statusCode ?? 502, body, contentType: String(res.headers['content-type'] ?? 'text/xml; charset=utf-8') });
        });
        // Cut off in the middle of the answer: the owner has it in its cache, a retry fetches it.
        res.on('close', () => {
          if (!res.complete) on.failed(new Error('connection lost during the answer'), false);
        });
      },
    );
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      on.failed(err, outgoing.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE'));
    });
    outgoing.end(raw);
    return outgoing;
  }
}

/**
 * Cluster sids are `<uuid v4>.<node id>`: unpredictable (the uuid) and naming their node, so any node
 * finds the owner without asking Redis (forwarding keeps working through a Redis outage).
 */
export function clusterSid(uuid: string, node: string): string {
  return `${uuid}.${node}`;
}

function ownerOfSid(sid: string): string | null {
  const match = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.([A-Za-z0-9._-]{1,64})$/.exec(sid);
  return match ? (match[1] as string) : null;
}
