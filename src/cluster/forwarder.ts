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
  /**
   * A session's owner never changes, so it is remembered: forwarding then needs no Redis round trip,
   * and goes on working while Redis is down. Bounded; an entry goes when its session is found gone.
   */
  private readonly owners = new Map<string, { node: string; url: string }>();
  private static readonly MAX_CACHED = 200_000;

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
      let owner: string | null;
      let url: string | null = null;
      const cached = this.owners.get(sid);
      try {
        if (cached && (await this.membership.isAlive(cached.node).catch(() => true))) {
          owner = cached.node;
          url = cached.url;
        } else {
          owner = await this.registry.owner(sid);
          if (owner && owner !== this.membership.node) url = await this.membership.urlOf(owner);
          if (owner && url) this.remember(sid, owner, url);
        }
      } catch {
        // Without the registry no node can be found: a defined error, at once.
        return fail('failed', new BoshError('internal-server-error', 'session registry unavailable'));
      }
      if (cached && !url) this.owners.delete(sid);
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
            // The session ended on its owner: forget where it was.
            if (body.includes("type='terminate'") || (res.statusCode ?? 200) !== 200) this.owners.delete(sid);
            finish('ok', { status: res.statusCode ?? 502, body, contentType: String(res.headers['content-type'] ?? 'text/xml; charset=utf-8') });
          });
          res.on('error', () => fail('failed', new BoshError('remote-connection-failed', 'lost the node holding this session')));
        },
      );
      outgoing.on('error', (err) => {
        if (aborted) return;
        this.logger.warn({ err: err.message, owner }, 'forwarding failed');
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

  private remember(sid: string, node: string, url: string): void {
    if (this.owners.size >= BoshForwarder.MAX_CACHED) this.owners.delete(this.owners.keys().next().value as string);
    this.owners.set(sid, { node, url });
  }

  close(): void {
    this.agent.destroy();
  }
}
