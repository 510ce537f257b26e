import { randomBytes } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import type { StreamOpener } from '../base/stream';
import { decodeRequest, DEFAULT_MAX_XML_DEPTH, encodeResponse, type ResponseAttributes } from './body-codec';
import { guard } from '../safety/guard';
import { BoshError, legacyHttpStatus, type TerminalCondition } from './conditions';
import { guardedScheduler } from './guarded-scheduler';
import { NS_XBOSH } from './namespaces';
import { silentObserver, type BoshObserver } from './observer';
import type { BoshRequest } from './request';
import type { Scheduler } from './scheduler';
import { BoshSession, type BoshResponse, type RequestHandle, type Responder, type SessionEvents } from './session';
import { DEFAULT_CONTENT_TYPE, negotiateParams, type BoshLimits, type SessionParams } from './session-params';

export interface BoshTransportOptions {
  readonly limits: BoshLimits;
  /** The XMPP domains this node serves; a creation request for another gets host-unknown (§17.2). */
  readonly domains: ReadonlySet<string>;
  readonly maxStanzaBytes: number;
  /** Deepest element a stanza may hold, <body/> being level 1 (MAX_XML_DEPTH). */
  readonly maxXmlDepth?: number;
  /** Stanzas queued for a client between its requests before its session ends (default 10,000). */
  readonly maxQueuedStanzas?: number;
  readonly scheduler: Scheduler;
  readonly openStream: StreamOpener;
  readonly observer?: BoshObserver;
  /** Whether a client address may open another session now (new-session rate limit). */
  readonly admit?: (address: string | undefined) => boolean;
  readonly remote?: RemoteSessionHandler;
  /** Makes a sid from a fresh random uuid (a cluster adds the node's name). */
  readonly sidFor?: (uuid: string) => string;
}

export interface RequestContext {
  readonly remoteAddress: string | undefined;
  /** The request was forwarded by another node of the cluster: never forward it again. */
  readonly forwarded?: boolean;
}

/**
 * Serves a request for a sid this node does not hold (in a cluster: forwards it to the owner).
 * Calls `respond` exactly once.
 */
export type RemoteSessionHandler = (sid: string, raw: string, context: RequestContext, respond: Responder) => RequestHandle | undefined;

export type SessionEndListener = (session: BoshSession, reason: string) => void;

/**
 * Told when handling a request, timer or flush threw. With a session, that session ends right after;
 * without one (the fault came before any session was found), only the request is answered.
 */
export type SessionFaultListener = (session: BoshSession | undefined, err: unknown, where: string) => void;

const DEFAULT_MAX_QUEUED_STANZAS = 10_000;

/**
 * The BOSH connection manager of one node: decodes each request body, creates sessions and hands
 * requests to the session that owns the sid. It knows nothing of HTTP.
 */
export class BoshTransport {
  private readonly sessions = new Map<string, BoshSession>();
  private accepting = true;
  private readonly endListeners: SessionEndListener[] = [];
  private readonly startListeners: Array<(session: BoshSession) => void> = [];
  private readonly faultListeners: SessionFaultListener[] = [];
  readonly observer: BoshObserver;
  /** What every session reports back: one object for all of them (each call names its session). */
  private readonly sessionEvents: SessionEvents = {
    closed: (closed, reason) => {
      if (this.sessions.get(closed.sid) === closed) this.sessions.delete(closed.sid);
      this.observer.sessionClosed(reason);
      for (const listener of this.endListeners) listener(closed, reason);
    },
    delivered: (count, seconds) => this.observer.delivered(count, seconds),
    faulted: (faulted, err, where) => {
      for (const listener of this.faultListeners) listener(faulted, err, where);
    },
  };

  constructor(private readonly options: BoshTransportOptions) {
    this.observer = options.observer ?? silentObserver;
  }

  /** Held requests over all sessions (computed on demand, for metrics). */
  get heldCount(): number {
    let held = 0;
    for (const session of this.sessions.values()) held += session.heldCount;
    return held;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  session(sid: string): BoshSession | undefined {
    return this.sessions.get(sid);
  }

  onSessionEnd(listener: SessionEndListener): void {
    this.endListeners.push(listener);
  }

  onSessionStart(listener: (session: BoshSession) => void): void {
    this.startListeners.push(listener);
  }

  onSessionFault(listener: SessionFaultListener): void {
    this.faultListeners.push(listener);
  }

  /** Every open session (for re-registration after a Redis outage). */
  sids(): string[] {
    return [...this.sessions.keys()];
  }

  /** Handles one request body; `respond` is called exactly once. */
  handle(raw: string, context: RequestContext, respond: Responder): RequestHandle | undefined {
    // The safety net's outer layer: a throw outside any session's own guard (decoding, forwarding)
    // answers this request internal-server-error; every session goes on.
    const once = answerOnce(respond);
    return guard(
      () => this.dispatch(raw, context, once),
      (err) => {
        for (const listener of this.faultListeners) listener(undefined, err, 'request');
        once(errorResponse(new BoshError('internal-server-error'), false));
      },
    );
  }

  private dispatch(raw: string, context: RequestContext, respond: Responder): RequestHandle | undefined {
    let request: BoshRequest;
    try {
      request = decodeRequest(raw, this.options.maxXmlDepth ?? DEFAULT_MAX_XML_DEPTH);
    } catch (err) {
      this.refuseUnreadable(raw, toBoshError(err), context, respond);
      return undefined;
    }
    if (request.sid === undefined) return this.create(request, context, respond);
    const session = this.sessions.get(request.sid);
    if (!session) {
      if (this.options.remote && !context.forwarded) return this.options.remote(request.sid, raw, context, respond);
      // §17.2: an unknown sid (expired, terminated, or never issued).
      respond(errorResponse(new BoshError('item-not-found', 'unknown sid'), false));
      return undefined;
    }
    // The safety net: a throw while handling this request ends this session alone (internal-server-error).
    return guard(
      () => session.handle(request, respond),
      (err) => session.fault(err, 'request', respond),
    );
  }

  /**
   * §17.2 bad-request (not well-formed) and policy-violation (nested absurdly deep) are terminal: a
   * session that sent the body ends here too, not by inactivity later.
   */
  private refuseUnreadable(raw: string, error: BoshError, context: RequestContext, respond: Responder): void {
    const session = this.sessionNamedIn(raw);
    if (session && !context.forwarded) session.fail(error, respond);
    else respond(errorResponse(error, legacyRequest(raw)));
  }

  /**
   * RFC 6120 §11.6: XMPP is UTF-8. Bytes that are not (an encoded surrogate, say) would otherwise be
   * decoded into replacement characters; the body is refused as not well-formed instead.
   */
  refuseNotUtf8(raw: string, context: RequestContext, respond: Responder): void {
    this.refuseUnreadable(raw, new BoshError('bad-request', 'the body is not UTF-8'), context, respond);
  }

  /** The session whose sid appears in an unparseable or unread body, if it is one of ours. */
  private sessionNamedIn(head: string): BoshSession | undefined {
    const sid = /\ssid=(?:'([^']*)'|"([^"]*)")/.exec(head.slice(0, 4096));
    return sid ? this.sessions.get(sid[1] ?? sid[2] ?? '') : undefined;
  }

  /** §17.2: a body too large to read. The session it names, if any, ends with policy-violation. */
  refuseOversized(head: string, respond: Responder): void {
    const session = this.sessionNamedIn(head);
    const error = new BoshError('policy-violation', 'request body too large');
    if (session) session.fail(error, respond);
    else respond(errorResponse(error, false));
  }

  /** Ends every session with system-shutdown (§17.2). */
  shutdown(): void {
    this.accepting = false;
    for (const session of [...this.sessions.values()]) session.shutdown();
  }

  /**
   * A new session object, built apart from `create`: the callbacks it keeps for its whole life must not
   * share a closure scope with the creation request's responder, which would keep that finished HTTP
   * exchange (request, response, socket buffers) alive as long as the session.
   */
  private newSession(sid: string, streamId: string, params: SessionParams, request: BoshRequest): BoshSession {
    // The session's timers and flushes run under the safety net: a throw there ends this session only.
    const scheduler = guardedScheduler(this.options.scheduler, (err) => session.fault(err, 'timer'));
    const session: BoshSession = new BoshSession(
      sid,
      streamId,
      params,
      creationAttributes(sid, streamId, params),
      request,
      scheduler,
      { maxStanzaBytes: this.options.maxStanzaBytes, maxQueuedStanzas: this.options.maxQueuedStanzas ?? DEFAULT_MAX_QUEUED_STANZAS },
      this.sessionEvents,
    );
    return session;
  }

  private create(request: BoshRequest, context: RequestContext, respond: Responder): RequestHandle | undefined {
    const legacy = request.attrs.ver === undefined;
    if (!this.accepting) {
      respond(errorResponse(new BoshError('system-shutdown', 'this node is shutting down'), legacy));
      return undefined;
    }
    if (this.options.admit && !this.options.admit(context.remoteAddress)) {
      respond(errorResponse(new BoshError('policy-violation', 'too many new sessions from this address'), legacy));
      return undefined;
    }
    let params: SessionParams;
    try {
      params = negotiateParams(request.attrs, this.options.limits);
      if (!this.options.domains.has(params.to)) throw new BoshError('host-unknown', `this service does not serve ${params.to}`);
    } catch (err) {
      respond(errorResponse(toBoshError(err), legacy));
      return undefined;
    }
    // §7.2, §18: the sid is unpredictable and unique; the stream id likewise.
    const sid = this.options.sidFor ? this.options.sidFor(uuidv4()) : uuidv4();
    const streamId = randomBytes(12).toString('base64url');
    const session = this.newSession(sid, streamId, params, request);
    this.sessions.set(sid, session);
    this.observer.sessionOpened();
    for (const listener of this.startListeners) listener(session);
    return guard(
      () => {
        const endpoint = this.options.openStream(session, {
          domain: params.to,
          lang: params.lang,
          streamId,
          remoteAddress: context.remoteAddress,
        });
        return session.open(endpoint, request, respond);
      },
      (err) => session.fault(err, 'request', respond),
    );
  }
}

/** §7.2 and XEP-0206 §3: the attributes of the session creation response. */
function creationAttributes(sid: string, streamId: string, params: SessionParams): ResponseAttributes {
  const attributes: Array<readonly [string, string | number]> = [
    ['xmlns:xmpp', NS_XBOSH],
    ['sid', sid],
    ['wait', params.wait],
    ['requests', params.requests],
    ['hold', params.hold],
    ['inactivity', params.inactivity],
    ['polling', params.polling],
    ['maxpause', params.maxPause],
  ];
  if (params.ver !== undefined) attributes.push(['ver', params.ver]);
  attributes.push(['from', params.to], ['authid', streamId], ['xmpp:version', '1.0'], ['xmpp:restartlogic', 'true']);
  return attributes;
}

/** A responder that passes on only its first answer: after a fault, the request may already have had one. */
function answerOnce(respond: Responder): Responder {
  let answered = false;
  return (response) => {
    if (answered) return;
    answered = true;
    respond(response);
  };
}

function toBoshError(err: unknown): BoshError {
  if (err instanceof BoshError) return err;
  return new BoshError('internal-server-error', err instanceof Error ? err.message : String(err));
}

/** A body we could not parse is legacy only if it visibly lacks 'ver' on a creation request. */
function legacyRequest(raw: string): boolean {
  return !/\ssid=/.test(raw) && !/\sver=/.test(raw) && /^\s*(<\?xml[^>]*>\s*)?<body[\s>/]/.test(raw);
}

/** A terminal error outside any session: a BOSH body, or the legacy HTTP status (§17.1). */
export function errorResponse(error: BoshError, legacy: boolean, contentType?: string): BoshResponse {
  const status = legacy ? legacyHttpStatus(error.condition) : 200;
  const attributes: Array<readonly [string, string]> = [
    ['type', 'terminate'],
    ['condition', error.condition],
  ];
  return {
    status,
    body: status === 200 ? encodeResponse(attributes) : '',
    contentType: contentType ?? DEFAULT_CONTENT_TYPE,
    condition: error.condition,
  };
}

export type { TerminalCondition };
