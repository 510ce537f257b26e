import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import { normaliseAddress } from '../limits/address-group';
import { corsPreflightHeaders, corsResponseHeaders, isOriginAllowed, type CorsPolicy } from './cors';
import { isTrustedProxy } from './trusted-proxies';
import type { BoshResponse, RequestHandle } from './session';
import type { BoshTransport } from './transport';

export interface BoshHttpOptions {
  readonly path: string;
  readonly maxBodyBytes: number;
  readonly cors: CorsPolicy;
  /** Proxies whose X-Forwarded-For is believed (addresses and ranges: trusted-proxies.ts). */
  readonly trustedProxies?: BlockList;
  /** The shared secret another node of the cluster presents when it forwards a request here. */
  readonly clusterSecret?: string;
}

export const FORWARDED_HEADER = 'x-bosh-forwarded';

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The client's address: the socket peer, or, when that peer is a trusted proxy, the nearest
 * untrusted address in X-Forwarded-For (the rightmost entries were added by our own proxies).
 */
export function clientAddress(req: Pick<IncomingMessage, 'socket' | 'headers'>, trusted: BlockList | undefined): string | undefined {
  const peer = req.socket.remoteAddress === undefined ? undefined : normaliseAddress(req.socket.remoteAddress);
  if (!trusted || peer === undefined || !isTrustedProxy(trusted, peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((h) => normaliseAddress(h.trim()))
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrustedProxy(trusted, hops[i] as string)) return hops[i];
  }
  return hops[0] ?? peer;
}

function sendJson(res: ServerResponse, status: number, payload: object, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * The BOSH endpoint on a plain node:http server: the hot path skips any framework router.
 * Returns a handler that answers requests for `path` and returns false for anything else.
 */
export function createBoshHttpHandler(transport: BoshTransport, options: BoshHttpOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    if ((queryAt < 0 ? url : url.slice(0, queryAt)) !== options.path) return false;

    const origin = req.headers.origin;
    if (origin !== undefined && !isOriginAllowed(options.cors, origin)) {
      // Refused before any side effect: a page on another site must not drive a session.
      sendJson(res, 403, { error: 'origin_not_allowed', reason: `origin ${origin} is not in CORS_ORIGINS` });
      return true;
    }
    if (req.method === 'OPTIONS') {
      const headers = origin === undefined ? {} : corsPreflightHeaders(options.cors, origin, req.headers['access-control-request-headers']);
      res.writeHead(200, { ...headers, 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (req.method !== 'POST') {
      sendJson(
        res,
        405,
        { error: 'method_not_allowed', reason: 'BOSH requests are HTTP POSTs of a <body/> element (XEP-0124 §5)' },
        { Allow: 'POST, OPTIONS', ...corsResponseHeaders(options.cors, origin) },
      );
      return true;
    }
    readBody(req, res, transport, options, origin);
    return true;
  };
}

function readBody(req: IncomingMessage, res: ServerResponse, transport: BoshTransport, options: BoshHttpOptions, origin: string | undefined): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const startedAt = performance.now();
  const respond = (response: BoshResponse, closeConnection = false): void => {
    transport.observer.responded(response.status, response.condition, response.recoverable === true, (performance.now() - startedAt) / 1000);
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | number> = {
      'Content-Type': response.contentType,
      'Content-Length': Buffer.byteLength(response.body),
      'Cache-Control': 'no-store',
      ...corsResponseHeaders(options.cors, origin),
    };
    if (closeConnection) headers.Connection = 'close';
    res.writeHead(response.status, headers);
    res.end(response.body);
  };

  const declared = Number(req.headers['content-length']);
  // Declared too large: only the first chunk is read, to learn which session sent it.
  const declaredTooLarge = Number.isFinite(declared) && declared > options.maxBodyBytes;
  req.on('data', (chunk: Buffer) => {
    if (done) return;
    size += chunk.length;
    if (declaredTooLarge || size > options.maxBodyBytes) {
      done = true;
      const head = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, 4096)) + chunk.toString('utf8', 0, 4096);
      refuseOversized(req, res, transport, head, respond);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (done) return;
    done = true;
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    // The closures of a held request keep this scope alive for up to `wait` seconds: not the chunks.
    chunks.length = 0;
    const raw = bytes.toString('utf8');
    let handle: RequestHandle | undefined;
    // A request forwarded by a peer node carries the client's address; it is believed only with the secret.
    const secret = req.headers[FORWARDED_HEADER];
    const forwarded = options.clusterSecret !== undefined && typeof secret === 'string' && sameSecret(secret, options.clusterSecret);
    const remoteAddress = forwarded ? String(req.headers['x-forwarded-for'] ?? '') || undefined : clientAddress(req, options.trustedProxies);
    if (!isUtf8(bytes)) {
      transport.refuseNotUtf8(raw, { remoteAddress, forwarded }, (response) => respond(response));
      return;
    }
    handle = transport.handle(raw, { remoteAddress, forwarded }, (response) => respond(response));
    if (handle && !res.headersSent) {
      res.on('close', () => {
        if (!res.writableFinished) handle?.aborted();
        handle = undefined;
      });
    }
  });
  req.on('error', () => {
    done = true;
  });
}

/** The body is over the limit: a BOSH terminal body (never an HTML error page), then the connection closes. */
function refuseOversized(
  req: IncomingMessage,
  res: ServerResponse,
  transport: BoshTransport,
  head: string,
  respond: (response: BoshResponse, closeConnection?: boolean) => void,
): void {
  transport.refuseOversized(head, (response) => respond(response, true));
  // Stop reading what remains; the socket is closed once the answer is out.
  req.pause();
  res.on('finish', () => req.socket.destroy());
}
