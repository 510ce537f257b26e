import { Agent, request, type ClientRequest } from 'node:http';
import { BoshError, errorResponse, FORWARDED_HEADER, type RequestContext, type RequestHandle, type Responder } from '../bosh';
import type { Logger } from '../observability/logger';
import type { Membership } from './membership';
import type { SessionRegistry } from './session-registry';

export interface ForwardObserver {
  forwarded(outcome: 'ok' | 'unknown' | 'owner-down' | 'failed', seconds: number): void;
}

/**
 * Serves a BOSH request that reached a node which does not hold its session: the raw body goes to
 * the owner over an internal HTTP call and the owner's answer returns on the client's own
 * connection. The owner holds the forwarded request exactly as it would hold the client's, so hold
 * and wait keep their meaning; if the client goes away, the forwarded request is dropped too.
 */
export class BoshForwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4096, keepAliveMsecs: 30_000 });
  /** Where each node was last seen listening: forwarding goes on while Redis is down. */
  private readonly urls = new Map<string, string>();

  constructor(
    private readonly registry: SessionRegistry,
    private readonly membership: Membership,
    private readonly boshPath: string,
    private readonly secret: string,
    private readonly logger: Logger,
    private readonly observer: ForwardObserver,
  ) {}

  forward(sid: string, raw: string, context: RequestContext, respond: Responder): RequestHandle {
    const started = performance.now();
    let outgoing: ClientRequest | undefined;
    let aborted = false;
    let done = false;
    const finish = (outcome: 'ok' | 'unknown' | 'owner-down' | 'failed', response: Parameters<Responder>[0]): void => {
      if (done) return;
      done = true;
      this.observer.forwarded(outcome, (performance.now() - started) / 1000);
      respond(response);
    };
    const fail = (outcome: 'unknown' | 'owner-down' | 'failed', error: BoshError): void => finish(outcome, errorResponse(error, false));

    void (async () => {
      // The owner is named in the sid itself; the registry is asked only for sids of another form.
      let owner = ownerOfSid(sid);
      let url: string | null = null;
      try {
        owner ??= await this.registry.owner(sid);
        if (owner && owner !== this.membership.node) {
          // A live owner's address is cached (liveness from the heartbeat cache); Redis only on a miss.
          const known = this.urls.get(owner);
          if (known && (await this.membership.isAlive(owner))) url = known;
          else {
            url = await this.membership.urlOf(owner);
            if (url) this.urls.set(owner, url);
            else this.urls.delete(owner);
          }
        }
      } catch {
        // Redis is down: a node seen alive keeps its address; otherwise a defined error, at once.
        url = owner ? (this.urls.get(owner) ?? this.membership.lastKnownUrl(owner) ?? null) : null;
        if (!url) return fail('failed', new BoshError('internal-server-error', 'session registry unavailable'));
      }
      if (aborted) return;
      // §17.2: an unknown sid; the owner's own table is the authority for its sessions.
      if (!owner || owner === this.membership.node) return fail('unknown', new BoshError('item-not-found', 'unknown sid'));
      // The owner's heartbeat lapsed: the client must log in again.
      if (!url) return fail('owner-down', new BoshError('remote-connection-failed', 'the node holding this session is down'));
      outgoing = request(
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
            finish('ok', { status: res.statusCode ?? 502, body, contentType: String(res.headers['content-type'] ?? 'text/xml; charset=utf-8') });
          });
          res.on('error', () => fail('failed', new BoshError('remote-connection-failed', 'lost the node holding this session')));
        },
      );
      outgoing.on('error', (err) => {
        if (aborted) return;
        // The owner may have moved (restarted elsewhere) or died: ask Redis next time. Counted in metrics;
        // logged at debug, since a node that stops produces one per held request.
        if (owner) this.urls.delete(owner);
        this.logger.debug({ err: err.message, owner }, 'forwarding failed');
        fail('failed', new BoshError('remote-connection-failed', 'cannot reach the node holding this session'));
      });
      outgoing.end(raw);
    })();

    return {
      aborted: () => {
        aborted = true;
        outgoing?.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Cluster sids are `<uuid v4>.<node id>`: unpredictable (the uuid) and naming their node, so any node
 * finds the owner without asking Redis (forwarding keeps working through a Redis outage).
 */
export function clusterSid(uuid: string, node: string): string {
  return `${uuid}.${node}`;
}

export function ownerOfSid(sid: string): string | null {
  const match = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.([A-Za-z0-9._-]{1,64})$/.exec(sid);
  return match ? (match[1] as string) : null;
}
