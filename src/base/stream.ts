import type { Element } from 'ltx';

/**
 * The seam between a transport (BOSH today, WebSocket later) and the session actor.
 * The actor sees a stream of stanzas in and emits stanzas out; it knows nothing of rid, hold or HTTP.
 */

/** Why a transport ended a stream. */
export type StreamEndReason =
  | 'terminate' // the client ended the session (XEP-0124 §13)
  | 'inactivity' // the client went away (XEP-0124 §10)
  | 'shutdown' // this node is stopping
  | 'error'; // a terminal transport error (bad key, policy violation, …)

/** Why the transport refused one inbound element. */
export type RefusalReason = 'too-big' | 'too-deep';

/**
 * Called once when a stanza is settled: its client has it (a later request or an XEP-0124 §9 ack
 * shows the response carrying it arrived), or, the session having ended without that, it was routed
 * again (offline storage, another resource, an error to its sender). A cluster node keeps a bus
 * entry until then, so a node that dies routes again only what no client was known to have.
 */
export type Settled = () => void;

/** What the transport offers the actor. */
export interface StreamOutput {
  /** Queues one top-level element (stanza, features, SASL) for the client; `settled`, if given, is called once (see Settled). */
  send(element: Element, settled?: Settled): void;
  /** Ends the stream from the server side, optionally with a `<stream:error/>` (RFC 6120 §4.9). */
  close(streamError?: Element): void;
}

/** What the actor offers the transport. */
export interface StreamEndpoint {
  /** XEP-0206 §5 / RFC 6120 §4.3.3: a new stream on the same session (after SASL). */
  restart(): void;
  receive(element: Element): void;
  /**
   * Resolves once every element received so far has been handled (routed: on the bus, stored, or
   * delivered here); undefined when that is already so. The request that carried them is answered
   * only then, so a node that dies cannot have answered for a message it never routed.
   */
  handled?(): Promise<void> | undefined;
  /**
   * The transport would not pass this element on: it exceeds the stanza size limit, or nests deeper
   * than the depth limit (then `element` keeps only its name and attributes).
   */
  refuse(element: Element, reason: RefusalReason): void;
  /**
   * The transport ended the stream; `undelivered` holds what was queued, or sent in a response the
   * client never showed it received, oldest first. The endpoint calls `rerouted` once it has routed
   * them again. It may be called after the endpoint closed the stream itself.
   */
  end(reason: StreamEndReason, undelivered: readonly Element[], rerouted?: () => void): void;
}

export interface StreamInfo {
  /** The domain the client addressed (`to`). */
  readonly domain: string;
  readonly lang: string | undefined;
  /** A unique id for this stream, also sent as `authid`. */
  readonly streamId: string;
  readonly remoteAddress: string | undefined;
}

export type StreamOpener = (output: StreamOutput, info: StreamInfo) => StreamEndpoint;
