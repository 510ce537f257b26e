import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';

/**
 * The page a newcomer opens to try the gateway: static/index.html, client.js and client.css, plus
 * Strophe.js's browser bundle from node_modules. Everything is read once at start-up (a missing file
 * stops the node there, not at the first request) and served from memory with an ETag.
 */
export interface WebClientOptions {
  /** Where the page is served; ends with '/'. The other files live under it. */
  readonly path: string;
  /** The gateway's BOSH endpoint, which the page talks to on its own origin. */
  readonly boshPath: string;
  /** Appended to a JID typed without one ("alice" → alice@domain). */
  readonly domain: string;
}

/** `npm run build` copies this folder next to the compiled module (dist/web/static). */
const STATIC_DIR = path.join(__dirname, 'static');

// Scripts, styles and XHR from this origin only; the page has no inline script or style.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The BOSH URL can be changed on the login form, so XHR may go elsewhere.
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

function readAsset(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`web client: cannot read ${what} (${file}): ${(err as Error).message}; set WEB_CLIENT=false to run without it`);
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Strophe.js's UMD build (window.Strophe, $iq, $msg, $pres), resolved from the installed package. */
function stropheBundle(): string {
  return path.join(path.dirname(require.resolve('strophe.js/package.json')), 'dist', 'strophe.umd.min.js');
}

/** A middleware answering GET/HEAD for the page's few exact paths and passing everything else on. */
export function createWebClient(options: WebClientOptions): RequestHandler {
  const base = options.path;
  const page = readAsset(path.join(STATIC_DIR, 'index.html'), 'the page')
    .toString('utf8')
    .replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
      if (name === 'boshPath') return escapeAttribute(options.boshPath);
      if (name === 'domain') return escapeAttribute(options.domain);
      return whole;
    });
  const assets = new Map<string, Asset>([
    [base, { type: 'text/html; charset=utf-8', body: Buffer.from(page, 'utf8') }],
    [`${base}client.js`, { type: 'text/javascript; charset=utf-8', body: readAsset(path.join(STATIC_DIR, 'client.js'), 'the page script') }],
    [`${base}client.css`, { type: 'text/css; charset=utf-8', body: readAsset(path.join(STATIC_DIR, 'client.css'), 'the page styles') }],
    [`${base}strophe.js`, { type: 'text/javascript; charset=utf-8', body: readAsset(stropheBundle(), 'the Strophe.js bundle') }],
  ]);
  const withoutSlash = base.length > 1 ? base.slice(0, -1) : undefined;

  return (req: Request, res: Response, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === withoutSlash) {
      // Relative URLs in the page (client.js, …) need the trailing slash.
      const query = req.originalUrl.indexOf('?');
      res.redirect(301, base + (query < 0 ? '' : req.originalUrl.slice(query)));
      return;
    }
    const asset = assets.get(req.path);
    if (!asset) return next();
    res.set({
      'Content-Type': asset.type,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    if (req.path === base) res.set('Content-Security-Policy', CSP);
    // res.send adds an ETag and answers a matching If-None-Match with 304.
    res.send(asset.body);
  };
}
