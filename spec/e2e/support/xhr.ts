/**
 * A small XMLHttpRequest implementation over node:http, written for the e2e
 * suites: Strophe.js 5's Node build ships DOM and WebSocket shims but no
 * XMLHttpRequest, and its BOSH transport (src/request.ts, src/transports/bosh.ts)
 * talks to the network only through `new XMLHttpRequest()`.
 *
 * It follows the WHATWG XHR living standard for what a BOSH client can observe:
 *
 *  - readyState walks UNSENT(0) → OPENED(1) → HEADERS_RECEIVED(2) → LOADING(3)
 *    → DONE(4), with a `readystatechange` event on every transition (and one per
 *    body chunk while LOADING), always dispatched asynchronously after send();
 *  - `status` / `responseText` / `responseXML` are 0 / '' / null until the
 *    response gets that far, and stay that way for a network error, a timeout
 *    or an abort (the "request error steps");
 *  - `abort()` on an in-flight request fires readystatechange (DONE, status 0),
 *    `abort` and `loadend`, then silently resets readyState to UNSENT; the
 *    socket is destroyed so the server sees the client go away, like a browser
 *    tab being closed;
 *  - `responseXML` is the XML parse of the body when the final MIME type
 *    (overrideMimeType() first, then Content-Type) is an XML type, or null when
 *    the body is not well-formed — never a <parsererror> document, that is
 *    DOMParser's behaviour, not XHR's;
 *  - `getAllResponseHeaders()` lower-cases, sorts and combines header names and
 *    hides Set-Cookie, like a browser;
 *  - forbidden request headers (Host, Content-Length, Connection, Origin, …)
 *    are silently ignored; redirects are followed (up to 20).
 *
 * Connections are reused through one keep-alive agent limited to 6 sockets per
 * host, which is what browsers do for HTTP/1.1. Destroy it with
 * {@link destroyXhrAgents} in afterAll so that jest can exit.
 *
 * Synchronous requests, credentials in open() and responseType values other
 * than '', 'text' and 'document' are not supported and throw.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { DOMParser as XmlDomParser } from '@xmldom/xmldom';
import type { Document as XmlDocument } from '@xmldom/xmldom';

const UNSENT = 0;
const OPENED = 1;
const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

/** Browsers keep at most 6 HTTP/1.1 connections per host. */
export const MAX_SOCKETS_PER_HOST = 6;

export const xhrHttpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });
export const xhrHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });

/** Close every pooled socket (in-flight requests are torn down too). */
export function destroyXhrAgents(): void {
  xhrHttpAgent.destroy();
  xhrHttpsAgent.destroy();
}

const FORBIDDEN_REQUEST_HEADERS = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
]);

const FORBIDDEN_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2']);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

type Listener = ((this: NodeXMLHttpRequest, ev: Event) => unknown) | null;
type XhrEventType = 'readystatechange' | 'loadstart' | 'progress' | 'abort' | 'error' | 'load' | 'timeout' | 'loadend';
type ResponseType = '' | 'text' | 'document';

/** Parsed `type/subtype; charset=...` */
interface MimeType {
  essence: string;
  charset: string | null;
}

function parseMime(value: string | null | undefined): MimeType | null {
  if (!value) return null;
  const [essenceRaw, ...params] = value.split(';');
  const essence = (essenceRaw ?? '').trim().toLowerCase();
  if (!/^[^/\s]+\/[^/\s]+$/.test(essence)) return null;
  let charset: string | null = null;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset =
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .toLowerCase() || null;
    }
  }
  return { essence, charset };
}

function isXmlMime(m: MimeType): boolean {
  return m.essence === 'text/xml' || m.essence === 'application/xml' || m.essence.endsWith('+xml');
}

function domException(message: string, name: string): Error {
  // DOMException is a global from Node 17 on; fall back to a named Error.
  const Ctor = (globalThis as { DOMException?: new (m: string, n: string) => Error }).DOMException;
  if (Ctor) return new Ctor(message, name);
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Browsers report exceptions thrown by event handlers instead of propagating them. */
function reportException(err: unknown): void {
  console.error('Uncaught exception in an XMLHttpRequest event handler:', err);
}

export class NodeXMLHttpRequest extends EventTarget {
  static readonly UNSENT = UNSENT;
  static readonly OPENED = OPENED;
  static readonly HEADERS_RECEIVED = HEADERS_RECEIVED;
  static readonly LOADING = LOADING;
  static readonly DONE = DONE;
  readonly UNSENT = UNSENT;
  readonly OPENED = OPENED;
  readonly HEADERS_RECEIVED = HEADERS_RECEIVED;
  readonly LOADING = LOADING;
  readonly DONE = DONE;

  /** Base URL for relative open() URLs (a browser uses the document's URL). */
  static baseURL: string | undefined;

  onreadystatechange: Listener = null;
  onloadstart: Listener = null;
  onprogress: Listener = null;
  onabort: Listener = null;
  onerror: Listener = null;
  onload: Listener = null;
  ontimeout: Listener = null;
  onloadend: Listener = null;

  /** Milliseconds; 0 means no timeout. */
  timeout = 0;
  /** Accepted for API compatibility; there is no cookie jar here. */
  withCredentials = false;
  /** Present for API compatibility: upload progress is not reported. */
  readonly upload = new EventTarget();

  private _readyState = UNSENT;
  private _responseType: ResponseType = '';
  private _method = 'GET';
  private _url: URL | null = null;
  private _requestHeaders = new Map<string, { name: string; value: string }>();
  private _sendFlag = false;
  private _overrideMime: MimeType | null = null;

  private _status = 0;
  private _statusText = '';
  private _responseURL = '';
  private _rawResponseHeaders: string[] = [];
  private _chunks: Buffer[] = [];
  private _text: string | null = null;
  private _xml: XmlDocument | null | undefined = undefined;

  private _request: http.ClientRequest | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by open()/abort() so that callbacks of a superseded fetch are ignored. */
  private _generation = 0;

  get readyState(): number {
    return this._readyState;
  }

  get status(): number {
    return this._status;
  }

  get statusText(): string {
    return this._statusText;
  }

  get responseURL(): string {
    return this._responseURL;
  }

  get responseType(): ResponseType {
    return this._responseType;
  }

  set responseType(value: ResponseType) {
    if (this._readyState === LOADING || this._readyState === DONE) {
      throw domException('responseType cannot be changed once loading', 'InvalidStateError');
    }
    if (value !== '' && value !== 'text' && value !== 'document') {
      throw new TypeError(`responseType '${String(value)}' is not supported by this XMLHttpRequest shim`);
    }
    this._responseType = value;
  }

  get responseText(): string {
    if (this._responseType !== '' && this._responseType !== 'text') {
      throw domException("responseText is only available when responseType is '' or 'text'", 'InvalidStateError');
    }
    if (this._readyState !== LOADING && this._readyState !== DONE) return '';
    if (this._text === null) this._text = this._decodeBody();
    return this._text;
  }

  get responseXML(): XmlDocument | null {
    if (this._responseType !== '' && this._responseType !== 'document') {
      throw domException("responseXML is only available when responseType is '' or 'document'", 'InvalidStateError');
    }
    if (this._readyState !== DONE) return null;
    if (this._xml === undefined) this._xml = this._parseDocument();
    return this._xml;
  }

  get response(): string | XmlDocument | null {
    if (this._responseType === 'document') return this.responseXML;
    return this.responseText;
  }

  open(method: string, url: string | URL, async = true, username?: string | null, password?: string | null): void {
    if (!TOKEN.test(method)) throw domException(`'${method}' is not a valid HTTP method`, 'SyntaxError');
    const upper = method.toUpperCase();
    if (['CONNECT', 'TRACE', 'TRACK'].includes(upper)) {
      throw domException(`'${method}' HTTP method is unsupported`, 'SecurityError');
    }
    const normalized = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'].includes(upper) ? upper : method;
    let parsed: URL;
    try {
      parsed = new URL(String(url), NodeXMLHttpRequest.baseURL);
    } catch {
      throw domException(`Failed to parse URL from ${String(url)}`, 'SyntaxError');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw domException(`URL scheme '${parsed.protocol}' is not supported`, 'SyntaxError');
    }
    if (async === false) {
      throw domException('Synchronous XMLHttpRequest is not supported by this shim', 'InvalidAccessError');
    }
    if (username != null || password != null) {
      throw domException('Credentials in open() are not supported by this shim', 'InvalidAccessError');
    }

    // Terminate any ongoing fetch, without firing events for it.
    this._terminate();
    this._method = normalized;
    this._url = parsed;
    this._requestHeaders = new Map();
    this._sendFlag = false;
    this._resetResponse();
    if (this._readyState !== OPENED) {
      this._readyState = OPENED;
      this._fire('readystatechange');
    }
  }

  setRequestHeader(name: string, value: string): void {
    if (this._readyState !== OPENED || this._sendFlag) {
      throw domException('setRequestHeader() needs an opened, unsent request', 'InvalidStateError');
    }
    const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (!TOKEN.test(name)) throw domException(`'${name}' is not a valid HTTP header name`, 'SyntaxError');
    if (/[\0\r\n]/.test(v)) throw domException(`'${v}' is not a valid HTTP header value`, 'SyntaxError');
    const lower = name.toLowerCase();
    if (FORBIDDEN_REQUEST_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) return;
    const existing = this._requestHeaders.get(lower);
    this._requestHeaders.set(lower, existing ? { name: existing.name, value: `${existing.value}, ${v}` } : { name, value: v });
  }

  overrideMimeType(mime: string): void {
    if (this._readyState === LOADING || this._readyState === DONE) {
      throw domException('overrideMimeType() cannot be called once loading', 'InvalidStateError');
    }
    this._overrideMime = parseMime(mime) ?? { essence: 'application/octet-stream', charset: null };
  }

  send(body?: string | Buffer | Uint8Array | null): void {
    if (this._readyState !== OPENED || this._sendFlag) {
      throw domException('send() needs an opened, unsent request', 'InvalidStateError');
    }
    const url = this._url;
    if (!url) throw domException('send() before open()', 'InvalidStateError');
    let payload: Buffer | null = null;
    if (body != null && this._method !== 'GET' && this._method !== 'HEAD') {
      payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
      if (typeof body === 'string' && !this._requestHeaders.has('content-type')) {
        this._requestHeaders.set('content-type', { name: 'Content-Type', value: 'text/plain;charset=UTF-8' });
      }
    }
    this._sendFlag = true;
    this._fire('loadstart');
    if (this._readyState !== OPENED || !this._sendFlag) return; // a loadstart listener aborted or re-opened us

    const generation = this._generation;
    if (this.timeout > 0) {
      this._timer = setTimeout(() => {
        if (generation !== this._generation) return;
        this._terminate();
        this._requestErrorSteps('timeout');
      }, this.timeout);
    }
    this._dispatch(generation, this._method, url, payload, 0);
  }

  abort(): void {
    this._terminate();
    if ((this._readyState === OPENED && this._sendFlag) || this._readyState === HEADERS_RECEIVED || this._readyState === LOADING) {
      this._requestErrorSteps('abort');
    }
    if (this._readyState === DONE) {
      this._readyState = UNSENT;
      this._resetResponse();
    }
  }

  getResponseHeader(name: string): string | null {
    const lower = String(name).toLowerCase();
    if (FORBIDDEN_RESPONSE_HEADERS.has(lower)) return null;
    const values: string[] = [];
    for (let i = 0; i + 1 < this._rawResponseHeaders.length; i += 2) {
      if (this._rawResponseHeaders[i]!.toLowerCase() === lower) values.push(this._rawResponseHeaders[i + 1]!);
    }
    return values.length ? values.join(', ') : null;
  }

  getAllResponseHeaders(): string {
    const combined = new Map<string, string[]>();
    for (let i = 0; i + 1 < this._rawResponseHeaders.length; i += 2) {
      const lower = this._rawResponseHeaders[i]!.toLowerCase();
      if (FORBIDDEN_RESPONSE_HEADERS.has(lower)) continue;
      const list = combined.get(lower) ?? [];
      list.push(this._rawResponseHeaders[i + 1]!);
      combined.set(lower, list);
    }
    return [...combined.keys()]
      .sort()
      .map((k) => `${k}: ${combined.get(k)!.join(', ')}\r\n`)
      .join('');
  }

  // ---- internals -----------------------------------------------------------

  private _dispatch(generation: number, method: string, url: URL, payload: Buffer | null, redirects: number): void {
    const headers: http.OutgoingHttpHeaders = { Accept: '*/*' };
    for (const { name, value } of this._requestHeaders.values()) {
      if (name.toLowerCase() === 'accept') delete headers.Accept;
      headers[name] = value;
    }
    if (payload) headers['Content-Length'] = payload.length;
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') headers['Content-Length'] = 0;

    const isHttps = url.protocol === 'https:';
    const request = (isHttps ? https : http).request(url, {
      method,
      headers,
      agent: isHttps ? xhrHttpsAgent : xhrHttpAgent,
    });
    this._request = request;
    // Set once this exchange has completed or been handed over to a redirect:
    // late socket errors must not turn a finished response into a network error.
    let settled = false;

    request.on('error', () => {
      if (settled || generation !== this._generation) return;
      this._terminate();
      this._requestErrorSteps('error');
    });

    request.on('response', (res) => {
      if (generation !== this._generation) {
        res.resume();
        return;
      }
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        settled = true;
        res.resume();
        if (redirects >= 20) {
          this._terminate();
          this._requestErrorSteps('error');
          return;
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          this._terminate();
          this._requestErrorSteps('error');
          return;
        }
        const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
        if (toGet) {
          this._requestHeaders.delete('content-type');
        }
        this._dispatch(generation, toGet ? 'GET' : method, next, toGet ? null : payload, redirects + 1);
        return;
      }

      this._status = status;
      this._statusText = res.statusMessage ?? '';
      this._responseURL = url.href.replace(/#.*$/, '');
      this._rawResponseHeaders = res.rawHeaders.slice();
      this._readyState = HEADERS_RECEIVED;
      this._fire('readystatechange');
      if (generation !== this._generation) return;

      res.on('data', (chunk: Buffer) => {
        if (generation !== this._generation) return;
        this._chunks.push(chunk);
        this._text = null;
        if (this._readyState === HEADERS_RECEIVED) this._readyState = LOADING;
        this._fire('readystatechange');
        if (generation !== this._generation) return;
        this._fire('progress');
      });
      res.on('end', () => {
        if (settled || generation !== this._generation) return;
        settled = true;
        this._clearTimer();
        this._request = null;
        this._readyState = DONE;
        this._sendFlag = false;
        this._fire('readystatechange');
        if (generation !== this._generation) return;
        this._fire('load');
        if (generation !== this._generation) return;
        this._fire('loadend');
      });
      // A body cut short by the peer is a network error.
      res.on('aborted', () => {
        if (settled || generation !== this._generation) return;
        this._terminate();
        this._requestErrorSteps('error');
      });
      res.on('error', () => {
        if (settled || generation !== this._generation) return;
        this._terminate();
        this._requestErrorSteps('error');
      });
    });

    request.end(payload ?? undefined);
  }

  /** Stop the current fetch (if any) so that none of its callbacks run any more. */
  private _terminate(): void {
    this._generation++;
    this._clearTimer();
    const req = this._request;
    this._request = null;
    if (req && !req.destroyed) req.destroy();
  }

  private _clearTimer(): void {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /** XHR "request error steps": the response becomes a network error. */
  private _requestErrorSteps(event: 'error' | 'abort' | 'timeout'): void {
    this._readyState = DONE;
    this._sendFlag = false;
    this._resetResponse();
    this._fire('readystatechange');
    this._fire(event);
    this._fire('loadend');
  }

  private _resetResponse(): void {
    this._status = 0;
    this._statusText = '';
    this._responseURL = '';
    this._rawResponseHeaders = [];
    this._chunks = [];
    this._text = null;
    this._xml = undefined;
  }

  private _finalMime(): MimeType {
    return this._overrideMime ?? parseMime(this.getResponseHeader('content-type')) ?? { essence: 'text/xml', charset: null };
  }

  private _decodeBody(): string {
    const charset = this._finalMime().charset ?? 'utf-8';
    const body = Buffer.concat(this._chunks);
    try {
      return new TextDecoder(charset).decode(body);
    } catch {
      return new TextDecoder('utf-8').decode(body); // unknown label: fall back to UTF-8
    }
  }

  private _parseDocument(): XmlDocument | null {
    if (this._chunks.length === 0) return null;
    if (!isXmlMime(this._finalMime())) return null;
    const text = this._decodeBody();
    let fatal = false;
    try {
      const parser = new XmlDomParser({
        onError: (level: string) => {
          if (level === 'fatalError' || level === 'error') fatal = true;
        },
      });
      const doc = parser.parseFromString(text, 'text/xml');
      if (fatal || !doc || !doc.documentElement) return null;
      return doc;
    } catch {
      return null;
    }
  }

  private _fire(type: XhrEventType): void {
    const handler = (this as unknown as Record<string, Listener>)[`on${type}`];
    const event = new Event(type);
    if (typeof handler === 'function') {
      try {
        handler.call(this, event);
      } catch (err) {
        reportException(err);
      }
    }
    try {
      this.dispatchEvent(event);
    } catch (err) {
      reportException(err);
    }
  }
}

/**
 * Install the shim as the global XMLHttpRequest, unless one exists already.
 * Returns the constructor in use.
 */
export function installXMLHttpRequest(): typeof NodeXMLHttpRequest {
  const g = globalThis as unknown as { XMLHttpRequest?: unknown };
  if (typeof g.XMLHttpRequest !== 'function') {
    g.XMLHttpRequest = NodeXMLHttpRequest;
  }
  return g.XMLHttpRequest as typeof NodeXMLHttpRequest;
}
