/**
 * Checks the node:http XMLHttpRequest shim used by the Strophe e2e suite
 * (spec/e2e/support/xhr.ts) against a throwaway local HTTP server, for the
 * XHR behaviour Strophe's BOSH transport relies on.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeXMLHttpRequest, destroyXhrAgents } from './support/xhr';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  remotePort: number;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
const held: http.ServerResponse[] = [];
let heldClosed = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? -1,
      });
      switch (req.url) {
        case '/xml':
          res.setHeader('Set-Cookie', 'a=b');
          res.setHeader('X-Two', ['1', '2']);
          res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
          res.end("<body xmlns='http://jabber.org/protocol/httpbind' sid='s1'><message>h\u00e9</message></body>");
          return;
        case '/plain-xml':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('<body/>');
          return;
        case '/broken':
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end('<body><unclosed></body>');
          return;
        case '/404':
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('nope');
          return;
        case '/redirect':
          res.writeHead(307, { Location: '/xml' });
          res.end();
          return;
        case '/chunks':
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.write('<body>');
          // Time is the subject: the body must reach the client as two separate reads over a real
          // socket, which only a pause between the writes gives (no fake clock reaches the kernel).
          setTimeout(() => res.end('</body>'), 30);
          return;
        case '/cut':
          res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': '100' });
          res.write('<body>');
          // As above: the connection is cut after part of the body has been read, not before.
          setTimeout(() => res.socket?.destroy(), 30);
          return;
        case '/hold':
          held.push(res);
          res.on('close', () => {
            if (!res.writableEnded) heldClosed++;
          });
          return;
        default:
          res.writeHead(500);
          res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const r of held) r.destroy();
  destroyXhrAgents();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Send one request and resolve at loadend, with the readyState seen at each readystatechange. */
function run(
  method: string,
  path: string,
  body?: string,
  setup?: (x: NodeXMLHttpRequest) => void,
): Promise<{ xhr: NodeXMLHttpRequest; states: number[]; events: string[] }> {
  return new Promise((resolve) => {
    const xhr = new NodeXMLHttpRequest();
    const states: number[] = [];
    const events: string[] = [];
    xhr.onreadystatechange = () => states.push(xhr.readyState);
    for (const t of ['loadstart', 'load', 'error', 'abort', 'timeout'] as const) {
      xhr.addEventListener(t, () => events.push(t));
    }
    xhr.onloadend = () => {
      events.push('loadend');
      resolve({ xhr, states, events });
    };
    xhr.open(method, base + path);
    setup?.(xhr);
    xhr.send(body);
  });
}

describe('NodeXMLHttpRequest shim (what Strophe BOSH needs)', () => {
  it('walks readyState 1→2→3→4 and exposes status, text, XML and the request as sent', async () => {
    const { xhr, states, events } = await run('POST', '/xml', "<body rid='1'/>", (x) => {
      x.overrideMimeType('text/xml; charset=utf-8');
      x.setRequestHeader('Content-Type', 'text/xml; charset=utf-8');
    });
    expect(states[0]).toBe(1);
    expect(states.slice(1, 3)).toEqual([2, 3]);
    expect(states[states.length - 1]).toBe(4);
    expect(states.filter((s) => s === 4)).toHaveLength(1);
    expect(events).toEqual(['loadstart', 'load', 'loadend']);
    expect(xhr.status).toBe(200);
    expect(xhr.statusText).toBe('OK');
    expect(xhr.responseText).toContain('<message>h\u00e9</message>');
    const doc = xhr.responseXML;
    expect(doc?.documentElement?.localName).toBe('body');
    expect(doc?.documentElement?.namespaceURI).toBe('http://jabber.org/protocol/httpbind');
    expect(doc?.documentElement?.getAttribute('sid')).toBe('s1');

    const req = seen[seen.length - 1]!;
    expect(req.method).toBe('POST');
    expect(req.body).toBe("<body rid='1'/>");
    expect(req.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(req.headers['content-length']).toBe(String(Buffer.byteLength("<body rid='1'/>")));
    expect(req.headers.connection).toBe('keep-alive');
  });

  it('fires nothing synchronously from send()', () => {
    const xhr = new NodeXMLHttpRequest();
    const states: number[] = [];
    xhr.open('POST', `${base}/xml`);
    xhr.onreadystatechange = () => states.push(xhr.readyState);
    xhr.send('<body/>');
    expect(states).toEqual([]);
    expect(xhr.readyState).toBe(1);
    xhr.abort();
  });

  it('reuses a keep-alive socket for consecutive requests', async () => {
    await run('POST', '/xml', '<body/>');
    const first = seen[seen.length - 1]!.remotePort;
    await run('POST', '/xml', '<body/>');
    expect(seen[seen.length - 1]!.remotePort).toBe(first);
  });

  it('formats response headers like a browser (lower-case, sorted, combined, no Set-Cookie)', async () => {
    const { xhr } = await run('GET', '/xml');
    const all = xhr.getAllResponseHeaders();
    expect(all).toMatch(/^content-type: text\/xml; charset=utf-8\r\n/m);
    expect(all).toContain('x-two: 1, 2\r\n');
    expect(all).not.toMatch(/set-cookie/i);
    const names = all
      .trim()
      .split('\r\n')
      .map((l) => l.split(':')[0]!);
    expect(names).toEqual([...names].sort());
    expect(xhr.getResponseHeader('Content-Type')).toBe('text/xml; charset=utf-8');
    expect(xhr.getResponseHeader('set-cookie')).toBeNull();
    expect(xhr.getResponseHeader('x-missing')).toBeNull();
  });

  it('aborting an in-flight request reports DONE/status 0, then UNSENT, and closes the socket', async () => {
    const xhr = new NodeXMLHttpRequest();
    const seenStates: Array<[number, number]> = [];
    const events: string[] = [];
    xhr.onreadystatechange = () => seenStates.push([xhr.readyState, xhr.status]);
    xhr.onabort = () => events.push('abort');
    xhr.onloadend = () => events.push('loadend');
    xhr.onload = () => events.push('load');
    const closedBefore = heldClosed;
    xhr.open('POST', `${base}/hold`);
    xhr.send('<body/>');
    await waitFor(() => held.length > 0 && seen.some((s) => s.url === '/hold'));
    xhr.abort();
    expect(seenStates).toEqual([
      [1, 0],
      [4, 0],
    ]);
    expect(events).toEqual(['abort', 'loadend']);
    expect(xhr.readyState).toBe(0);
    expect(xhr.responseText).toBe('');
    await waitFor(() => heldClosed > closedBefore);
  });

  it('a refused connection is a network error: DONE, status 0, error event', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const xhr = new NodeXMLHttpRequest();
    const done = new Promise<string[]>((resolve) => {
      const events: string[] = [];
      xhr.onerror = () => events.push('error');
      xhr.onloadend = () => resolve(events);
    });
    xhr.open('POST', `http://127.0.0.1:${port}/`);
    xhr.send('<body/>');
    expect(await done).toEqual(['error']);
    expect(xhr.readyState).toBe(4);
    expect(xhr.status).toBe(0);
    expect(xhr.responseText).toBe('');
    expect(xhr.responseXML).toBeNull();
  });

  it('a body cut short by the server is a network error', async () => {
    const { xhr, events } = await run('GET', '/cut');
    expect(events).toEqual(['loadstart', 'error', 'loadend']);
    expect(xhr.status).toBe(0);
    expect(xhr.readyState).toBe(4);
  });

  it('HTTP errors are not network errors', async () => {
    const { xhr, events } = await run('POST', '/404', '<body/>');
    expect(events).toEqual(['loadstart', 'load', 'loadend']);
    expect(xhr.status).toBe(404);
    expect(xhr.responseText).toBe('nope');
    expect(xhr.responseXML).toBeNull();
  });

  it('responseXML is null (not a parsererror document) for malformed XML', async () => {
    const { xhr } = await run('GET', '/broken');
    expect(xhr.status).toBe(200);
    expect(xhr.responseText).toBe('<body><unclosed></body>');
    expect(xhr.responseXML).toBeNull();
  });

  it('overrideMimeType() makes a text/plain body parse as XML', async () => {
    const plain = await run('GET', '/plain-xml');
    expect(plain.xhr.responseXML).toBeNull();
    const forced = await run('GET', '/plain-xml', undefined, (x) => x.overrideMimeType('text/xml'));
    expect(forced.xhr.responseXML?.documentElement?.nodeName).toBe('body');
  });

  it('fires readystatechange per body chunk while LOADING', async () => {
    const { xhr, states } = await run('GET', '/chunks');
    expect(states).toEqual([1, 2, 3, 3, 4]);
    expect(xhr.responseText).toBe('<body></body>');
  });

  it('follows a 307 redirect keeping method and body', async () => {
    const { xhr } = await run('POST', '/redirect', '<body rid="9"/>');
    expect(xhr.status).toBe(200);
    expect(xhr.responseURL).toBe(`${base}/xml`);
    const last = seen[seen.length - 1]!;
    expect(last.method).toBe('POST');
    expect(last.body).toBe('<body rid="9"/>');
  });

  it('times out when timeout is set and the server holds the request', async () => {
    const { xhr, events } = await run('POST', '/hold', '<body/>', (x) => {
      x.timeout = 50;
    });
    expect(events).toEqual(['loadstart', 'timeout', 'loadend']);
    expect(xhr.status).toBe(0);
  });

  it('ignores forbidden request headers and rejects misuse', async () => {
    const { xhr } = await run('POST', '/xml', '<body/>', (x) => {
      x.setRequestHeader('Host', 'evil.example');
      x.setRequestHeader('Content-Length', '1');
      x.setRequestHeader('X-Custom', 'a');
      x.setRequestHeader('X-Custom', 'b');
    });
    expect(xhr.status).toBe(200);
    const last = seen[seen.length - 1]!;
    expect(last.headers.host).toBe(new URL(base).host);
    expect(last.headers['content-length']).toBe('7');
    expect(last.headers['x-custom']).toBe('a, b');
    expect(() => xhr.setRequestHeader('X-Late', '1')).toThrow();
    expect(() => new NodeXMLHttpRequest().send()).toThrow();
    expect(() => new NodeXMLHttpRequest().open('POST', `${base}/xml`, false)).toThrow();
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
