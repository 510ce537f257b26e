/**
 * A tiny static web site for the browser e2e suite, served with node:http on
 * two ports of 127.0.0.1, i.e. two origins, neither of them the gateway's:
 *  - `allowedOrigin`: the gateway is started with CORS_ORIGINS set to it;
 *  - `otherOrigin`: same files, but not in CORS_ORIGINS.
 *
 * It serves an HTML page, Strophe.js's browser UMD bundle straight from
 * node_modules/strophe.js/dist, and the page-side harness (browser/harness.js).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

// require.resolve('strophe.js') gives dist/strophe.cjs (the package's "." export).
const STROPHE_DIST = path.dirname(require.resolve('strophe.js'));

const FILES: Record<string, { file: string; type: string }> = {
  '/strophe.umd.min.js': { file: path.join(STROPHE_DIST, 'strophe.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  '/harness.js': { file: path.join(__dirname, 'browser', 'harness.js'), type: 'text/javascript; charset=utf-8' },
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>BOSH gateway e2e</title></head>
<body>
<p id="status">loading</p>
<script src="/strophe.umd.min.js"></script>
<script src="/harness.js"></script>
</body>
</html>
`;

export interface StaticSite {
  allowedOrigin: string;
  otherOrigin: string;
  /** Paths requested, with the port they came in on (for diagnostics). */
  requests: string[];
  close(): Promise<void>;
}

export async function startStaticSite(): Promise<StaticSite> {
  const requests: string[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    requests.push(`${req.socket.localPort} ${req.method} ${url.pathname}`);
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const entry = FILES[url.pathname];
    if (!entry) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    fs.readFile(entry.file, (err, data) => {
      if (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
        return;
      }
      res.writeHead(200, { 'Content-Type': entry.type }).end(data);
    });
  };

  const servers = [http.createServer(handler), http.createServer(handler)];
  const origins: string[] = [];
  for (const s of servers) {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve());
    });
    origins.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  }

  return {
    allowedOrigin: origins[0]!,
    otherOrigin: origins[1]!,
    requests,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
