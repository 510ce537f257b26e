/**
 * An HTTP proxy on 127.0.0.1 that forwards nothing: Chromium is launched with
 * it as its proxy (loopback addresses bypass it), so whatever a page tries to
 * fetch from another host is refused here and recorded, and never leaves the
 * machine.
 *
 * Why not Playwright's request interception (page.route/context.route)?
 * While any route is set, Playwright answers CORS pre-flight requests itself
 * with permissive headers, so the gateway's CORS handling would no longer be
 * what the browser sees.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DeadEndProxy {
  /** http://127.0.0.1:port, for Playwright's `proxy.server`. */
  readonly url: string;
  /** "GET http://host/path" or "CONNECT host:443", in order. */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startDeadEndProxy(): Promise<DeadEndProxy> {
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    refused.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' }).end('blocked by the e2e dead-end proxy');
  });
  server.on('connect', (req: http.IncomingMessage, socket) => {
    refused.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
