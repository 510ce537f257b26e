import type { SignedHeaders } from './signing';

/** What one POST to a sink came to. */
export interface PostResult {
  /** undefined: no answer (connection refused or reset, DNS, TLS, timeout). */
  readonly status: number | undefined;
  readonly retryAfter: string | undefined;
  /** A short description of what went wrong, for the sink's status (never the response body). */
  readonly error: string | undefined;
}

/** Sends one delivery; never throws. */
export type Poster = (url: string, body: string, headers: SignedHeaders, timeoutMs: number, cancel?: AbortSignal) => Promise<PostResult>;

/**
 * POST with Node's fetch (undici, pooled keep-alive connections). Redirects are not followed: a
 * signed delivery goes where the sink says, and a 3xx counts as a rejection. The response body is read
 * and dropped, so the connection goes back to the pool.
 */
export const fetchPoster: Poster = async (url, body, headers, timeoutMs, cancel) => {
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'bosh-gateway-webhooks', ...headers },
      redirect: 'manual',
      signal: cancel ? AbortSignal.any([cancel, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after') ?? undefined,
      error: response.ok ? undefined : `HTTP ${response.status}`,
    };
  } catch (err) {
    const error = err as Error & { cause?: { code?: string } };
    const reason = error.name === 'TimeoutError' ? 'timeout' : cancel?.aborted ? 'cancelled' : (error.cause?.code ?? error.name);
    return { status: undefined, retryAfter: undefined, error: reason };
  }
};
