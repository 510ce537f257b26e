/**
 * One-off HTTP requests outside any client library (no connection reuse), to
 * poke the gateway directly, e.g. with a stale BOSH sid.
 */
import * as http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function rawRequest(url: string, method: string, body?: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const req = http.request(url, {
      method,
      agent: false,
      headers: { ...(payload ? { 'Content-Length': String(payload.length) } : {}), ...headers },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(payload);
  });
}

export function postXml(url: string, xml: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(url, 'POST', xml, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
}

/** POSTs one BOSH body over a client's own keep-alive agent; resolves with the HTTP status and text, rejects on a network error. */
export function postOnAgent(agent: http.Agent, url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
