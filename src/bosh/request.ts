import type { Element } from 'ltx';

/** One parsed `<body/>` from the client (XEP-0124 §4), independent of HTTP. */
export interface BoshRequest {
  readonly rid: number;
  readonly sid: string | undefined;
  /** The wrapper's attributes as sent, for session creation and the rarer options. */
  readonly attrs: Readonly<Record<string, string>>;
  /** The children of <body/>; one too deep to build is a TruncatedElement (src/xml). */
  readonly payloads: readonly Element[];
  /** Each payload's size in the request, in UTF-8 bytes (measured while parsing, never re-serialised). */
  readonly payloadBytes: readonly number[];
  readonly terminate: boolean;
  /** XEP-0206 §5: xmpp:restart='true'. */
  readonly restart: boolean;
  /** XEP-0124 §10: seconds, when the client asks to pause. */
  readonly pause: number | undefined;
  readonly key: string | undefined;
  readonly newKey: string | undefined;
  /** XEP-0124 §9.1: the highest rid whose response the client has received. */
  readonly ack: number | undefined;
  /** The whole body's size in bytes. */
  readonly byteLength: number;
}

/** An empty request carries no payload and asks for nothing special: a plain poll (§11). */
export function isEmptyPoll(request: BoshRequest): boolean {
  return request.payloads.length === 0 && !request.terminate && !request.restart && request.pause === undefined;
}
