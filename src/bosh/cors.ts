/**
 * CORS for browser clients on other origins (the most asked-about BOSH deployment problem).
 * An allowed Origin is echoed back rather than answered with '*', which browsers refuse for
 * credentialed requests.
 */
export interface CorsPolicy {
  /** '*' allows any origin; otherwise the exact origins allowed. */
  readonly origins: '*' | ReadonlySet<string>;
}

export function isOriginAllowed(policy: CorsPolicy, origin: string): boolean {
  return policy.origins === '*' || policy.origins.has(origin);
}

/** Headers for an actual request from `origin` (undefined when the request carries no Origin). */
export function corsResponseHeaders(policy: CorsPolicy, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !isOriginAllowed(policy, origin)) return {};
  const headers: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  // Only an explicit allow-list vouches for an origin enough to let it send credentials.
  if (policy.origins !== '*') headers['Access-Control-Allow-Credentials'] = 'true';
  return headers;
}

/** Headers for an OPTIONS pre-flight from an allowed origin. */
export function corsPreflightHeaders(policy: CorsPolicy, origin: string, requestedHeaders: string | undefined): Record<string, string> {
  return {
    ...corsResponseHeaders(policy, origin),
    'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
    'Access-Control-Allow-Headers': requestedHeaders && /^[A-Za-z0-9 ,_-]*$/.test(requestedHeaders) ? requestedHeaders : 'Content-Type',
    'Access-Control-Max-Age': '86400',
  };
}
