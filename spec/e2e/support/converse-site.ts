/**
 * A static web site for the Converse.js e2e suite, on its own 127.0.0.1 port
 * (so on another origin than the gateway). It serves:
 *  - `/`: one HTML page that loads Converse.js and initialises it with the
 *    settings last given to `site.configure()` (the page is generated on each
 *    request, the settings embedded as JSON; the site has to exist first,
 *    since the gateway's CORS_ORIGINS names its origin);
 *  - `/dist/...`: the files of the installed converse.js package's dist/
 *    folder (the ES module bundle, its CSS, lazily loaded chunks such as
 *    locales, images, fonts), read from node_modules, nothing fetched from a CDN.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** converse.js's "exports" has no "./package.json"; find the package folder by walking up from the bundle. */
function converseDist(): string {
  let dir = path.dirname(require.resolve('converse.js/dist/converse.min.js'));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('converse.js package.json not found');
    dir = up;
  }
  return path.join(dir, 'dist');
}

export const CONVERSE_DIST = converseDist();
export const CONVERSE_VERSION = (JSON.parse(fs.readFileSync(path.join(CONVERSE_DIST, '..', 'package.json'), 'utf8')) as { version: string }).version;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.html': 'text/html; charset=utf-8',
};

/** Settings passed to converse.initialize() as they are (JSON). */
export type ConverseSettings = Record<string, unknown>;

function escapeForScript(json: string): string {
  // The JSON sits inside <script>: no "</script>" or "<!--" may appear in it.
  return json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function page(settings: ConverseSettings): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Converse.js via the BOSH gateway</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dist/converse.min.css">
</head>
<body class="converse-fullscreen">
<script>
  // Converse's fullscreen login screen has a footer with sponsor logos loaded
  // from conversejs.org. Converse registers its custom elements only when no
  // element of that name exists yet, so an empty one keeps the page offline.
  customElements.define('converse-footer', class extends HTMLElement {});
</script>
<script type="module">
import converse from '/dist/converse.min.js';
const settings = ${escapeForScript(JSON.stringify(settings))};
// For the test only: a plugin that hands Converse's API to the page (used to log out at the end).
converse.plugins.add('e2e-hooks', {
  initialize() {
    window.converseApi = this._converse.api;
  },
});
settings.whitelisted_plugins = [...(settings.whitelisted_plugins ?? []), 'e2e-hooks'];
window.converseInitialized = converse.initialize(settings).then(
  () => 'ok',
  (e) => { console.error('converse.initialize failed', e); return String(e); },
);
</script>
</body>
</html>
`;
}

export interface ConverseSite {
  origin: string;
  /** "METHOD /path STATUS" for every request, for diagnostics. */
  requests: string[];
  /** The settings the page passes to converse.initialize() from now on. */
  configure(settings: ConverseSettings): void;
  /**
   * Holds every request for Converse's bundle until the returned function is called: a page being
   * (re)loaded meanwhile cannot start Converse, so it sends no BOSH request.
   */
  holdBundle(): () => void;
  close(): Promise<void>;
}

export async function startConverseSite(): Promise<ConverseSite> {
  const requests: string[] = [];
  let settings: ConverseSettings | undefined;
  let bundleHeld: Promise<void> | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const done = (status: number): void => {
      requests.push(`${req.method} ${url.pathname} ${status}`);
    };
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      done(405);
      return;
    }
    if ((url.pathname === '/' || url.pathname === '/index.html') && settings) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(settings));
      done(200);
      return;
    }
    if (!url.pathname.startsWith('/dist/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      done(404);
      return;
    }
    const file = path.resolve(CONVERSE_DIST, decodeURIComponent(url.pathname.slice('/dist/'.length)));
    if (!file.startsWith(CONVERSE_DIST + path.sep)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden');
      done(403);
      return;
    }
    const serve = (): void =>
      fs.readFile(file, (err, data) => {
        if (err) {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
          done(404);
          return;
        }
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data);
        done(200);
      });
    if (bundleHeld && url.pathname === '/dist/converse.min.js') void bundleHeld.then(serve);
    else serve();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    configure: (s) => {
      settings = s;
    },
    holdBundle: () => {
      let release!: () => void;
      bundleHeld = new Promise<void>((resolve) => (release = resolve));
      return () => {
        bundleHeld = undefined;
        release();
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
