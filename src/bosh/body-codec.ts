import type { Element } from 'ltx';
import { parseXmlDocument, XmlDepthError, type ParsedDocument } from '../xml';
import { BoshError } from './conditions';
import { NS_HTTPBIND, NS_STREAM, NS_XBOSH } from './namespaces';
import type { BoshRequest } from './request';
import { parseRid } from './rid-window';

/**
 * Reads the value of an attribute in the urn:xmpp:xbosh namespace (XEP-0206), whatever prefix the
 * client bound to it; clients use `xmpp:` but nothing requires that prefix.
 */
export function xboshAttribute(attrs: Readonly<Record<string, string>>, localName: string): string | undefined {
  for (const name in attrs) {
    if (!name.startsWith('xmlns:')) continue;
    if (attrs[name] === NS_XBOSH) {
      const value = attrs[`${name.slice(6)}:${localName}`];
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

function optionalInteger(attrs: Readonly<Record<string, string>>, name: string): number | undefined {
  const value = attrs[name];
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(value)) throw new BoshError('bad-request', `invalid ${name}`);
  return Number(value);
}

/**
 * The default deepest element a stanza may hold, counting <body/> as level 1. Real stanzas nest about
 * 10 to 12 levels (a XEP-0060 pubsub event, a XEP-0313 archive result in a XEP-0280 carbon).
 */
export const DEFAULT_MAX_XML_DEPTH = 48;

/**
 * Parses a request body per XEP-0124 §4 and §17: every violation of XML is a bad-request. A body
 * nested deeper than twice `maxDepth` is hostile and ends with policy-violation as soon as the parser
 * sees it; a payload deeper than `maxDepth` in an otherwise sound body arrives as a TruncatedElement
 * for the session to refuse alone.
 */
export function decodeRequest(raw: string, maxDepth = DEFAULT_MAX_XML_DEPTH): BoshRequest {
  let parsed: ParsedDocument;
  try {
    parsed = parseXmlDocument(raw, { maxDepth: 2 * maxDepth, maxChildDepth: maxDepth });
  } catch (err) {
    if (err instanceof XmlDepthError) throw new BoshError('policy-violation', err.message);
    // XEP-0124 §17.2: bad-request covers XML that is not well-formed (XMPP's not-well-formed).
    if (err instanceof Error) throw new BoshError('bad-request', `malformed XML: ${err.message}`);
    throw err;
  }
  const root = parsed.root;
  if (root.name !== 'body') throw new BoshError('bad-request', 'the root element must be <body/>');
  const attrs = root.attrs as Record<string, string>;
  if (attrs.xmlns !== NS_HTTPBIND) throw new BoshError('bad-request', `<body/> must be in the ${NS_HTTPBIND} namespace`);
  const rid = parseRid(attrs.rid);
  if (rid === undefined) throw new BoshError('bad-request', 'missing or invalid rid');

  for (const child of root.children) {
    // §4: no character data directly inside <body/>; whitespace between elements is harmless.
    if (typeof child === 'string' && child.trim() !== '') throw new BoshError('bad-request', 'character data directly inside <body/>');
  }
  const payloads: Element[] = [];
  const payloadBytes: number[] = [];
  for (const { element, bytes } of parsed.children) {
    element.parent = null;
    payloads.push(element);
    payloadBytes.push(bytes);
  }

  const type = attrs.type;
  if (type !== undefined && type !== 'terminate') throw new BoshError('bad-request', `unknown type '${type}'`);
  const restart = xboshAttribute(attrs, 'restart');
  if (restart !== undefined && restart !== 'true' && restart !== 'false') {
    throw new BoshError('bad-request', 'xmpp:restart must be true or false');
  }
  return {
    rid,
    sid: attrs.sid,
    attrs,
    payloads,
    payloadBytes,
    terminate: type === 'terminate',
    restart: restart === 'true',
    pause: optionalInteger(attrs, 'pause'),
    key: attrs.key,
    newKey: attrs.newkey,
    ack: attrs.ack === undefined ? undefined : (parseRid(attrs.ack) ?? badAck()),
    byteLength: Buffer.byteLength(raw),
  };
}

function badAck(): never {
  throw new BoshError('bad-request', 'invalid ack');
}

/** Attributes of a response `<body/>`, in the order written. */
export type ResponseAttributes = ReadonlyArray<readonly [string, string | number]>;

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

/**
 * Renders a response `<body/>` around already-serialised payloads. The stream prefix is declared
 * whenever a payload uses it (XEP-0206 §4: required with <stream:features/> and <stream:error/>).
 */
export function encodeResponse(attributes: ResponseAttributes, payloads: readonly string[] = []): string {
  let head = `<body xmlns='${NS_HTTPBIND}'`;
  for (const [name, value] of attributes) head += ` ${name}='${escapeAttribute(String(value))}'`;
  if (payloads.length === 0) return `${head}/>`;
  const inner = payloads.join('');
  if (inner.includes('<stream:')) head += ` xmlns:stream='${NS_STREAM}'`;
  return `${head}>${inner}</body>`;
}
