import type { Element } from 'ltx';
import { serializeXml, TruncatedElement } from '../xml';
import type { Settled, StreamEndReason, StreamEndpoint, StreamOutput } from '../base/stream';
import { encodeResponse, type ResponseAttributes } from './body-codec';
import { BoshError, legacyHttpStatus, type TerminalCondition } from './conditions';
import { KeySequence } from './key-sequence';
import { isEmptyPoll, type BoshRequest } from './request';
import { ResponseCache } from './response-cache';
import { classifyRid } from './rid-window';
import type { Scheduler, TimerHandle } from './scheduler';
import { guard } from '../safety/guard';
import type { SessionParams } from './session-params';
import { settleAll, UnconfirmedOutput, type Outgoing } from './unconfirmed-output';

/** What an HTTP exchange gets back: always a BOSH body, with 200 unless the client is legacy (§17.1). */
export interface BoshResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  /** Set when the response ends the session (§17.2). */
  readonly condition?: TerminalCondition;
  /** A recoverable binding error (§17.3): the client resends. */
  readonly recoverable?: boolean;
}

export type Responder = (response: BoshResponse) => void;

/** Lets the HTTP side tell the session that the client dropped the connection. */
export interface RequestHandle {
  aborted(): void;
}

/** The session's lifecycle: open, then closing while a server-side terminal body waits for a request. */
export type SessionState = 'open' | 'closing' | 'closed';

interface PendingRequest {
  readonly rid: number;
  respond: Responder;
  /** The session creation request: its answer carries the negotiated attributes (§7.2). */
  readonly creation: boolean;
  /** §12: an empty poll; with an empty answer it counts towards the polling-frequency rule. */
  readonly emptyPoll: boolean;
  timer: TimerHandle | undefined;
  answered: boolean;
  /** §15: the key (or, on creation, the newkey) the request carried; a repeat of it must show the same. */
  readonly credential: string | undefined;
  /** Its payloads are still being handled by the endpoint: not answered before (see StreamEndpoint.handled). */
  handling: boolean;
  /** Its wait elapsed (or a newer request pushed it out) while its payloads were being handled. */
  due: boolean;
}

interface BufferedRequest {
  readonly request: BoshRequest;
  pending: PendingRequest;
}

/** Per-stanza limit and what happens to a stanza above it. */
export interface SessionLimits {
  readonly maxStanzaBytes: number;
  /** Stanzas waiting for the client's next request; one more ends the session (see `overflow`). */
  readonly maxQueuedStanzas: number;
}

export interface SessionEvents {
  /** The session is gone: its sid must be forgotten. */
  closed(session: BoshSession, reason: StreamEndReason | TerminalCondition): void;
  /** Stanzas went out in a response, `seconds` after they were queued. */
  delivered(count: number, seconds: number): void;
  /** Handling a request, timer or flush of the session threw (safety/guard.ts); it ends next. */
  faulted(session: BoshSession, err: unknown, where: string): void;
}

// §9.1: a response unacknowledged for this long is reported to the client (report/time).
const ACK_REPORT_AFTER_MS = 1_000;
// §9.1: with acks every unacknowledged response is kept; this bounds a client that never acks.
const MAX_UNACKED_RESPONSES = 64;
// §14.3: responses kept for retransmission beyond the `requests` the XEP asks for.
const RESPONSES_KEPT_BEYOND_REQUESTS = 2;

/**
 * One BOSH session (XEP-0124): the rid window, held requests, response cache, keys and the wait,
 * inactivity and pause timers. It forwards payloads to its stream endpoint strictly in rid order and
 * answers held requests with what the endpoint emits. Every ending passes through `finish`.
 */
export class BoshSession implements StreamOutput {
  state: SessionState = 'open';
  private endpoint: StreamEndpoint | undefined;
  private lastRid: number;
  private lastAnsweredRid = 0;
  private readonly held: PendingRequest[] = [];
  private readonly ahead = new Map<number, BufferedRequest>();
  private queue: Outgoing[] = [];
  /** Sent in responses the client has not shown it received (§9.1); routed again if the session ends first. */
  private readonly unconfirmed: UnconfirmedOutput;
  /** Sent in the terminal body: its receipt is never known. */
  private inTerminalBody: Outgoing[] = [];
  /** The endpoint of a stream the server closed: it still hears `end`, for what was not received. */
  private closedEndpoint: StreamEndpoint | undefined;
  /** When the oldest queued element was queued (for the delivery-latency metric). */
  private queuedSince = 0;
  private readonly cache: ResponseCache;
  private readonly keys: KeySequence;
  private inactivityTimer: TimerHandle | undefined;
  private pauseMs: number | undefined;
  private flushScheduled = false;
  private lastArrivalAt: number;
  /** §12: whether the previous request was an empty poll answered with an empty body. */
  private previousWasIdlePoll = false;
  private terminalBody: { condition: TerminalCondition | undefined; payloads: string[] } | undefined;

  constructor(
    readonly sid: string,
    /** The public stream id (authid): the session's correlation id in logs; the sid stays secret. */
    readonly streamId: string,
    readonly params: SessionParams,
    /** Needed once, for the creation request's answer; dropped then (it is a dozen arrays per session). */
    private creationAttributes: ResponseAttributes | undefined,
    creation: BoshRequest,
    private readonly scheduler: Scheduler,
    private readonly limits: SessionLimits,
    private readonly events: SessionEvents,
  ) {
    this.lastRid = creation.rid;
    this.lastArrivalAt = scheduler.now();
    // §14.3 sets a floor of `requests` bodies. A few more cover a client (Strophe.js) that resends an
    // older rid when a newer answer overtook it, which in a cluster happens across forwarding paths.
    this.cache = new ResponseCache(params.acks ? MAX_UNACKED_RESPONSES : params.requests + RESPONSES_KEPT_BEYOND_REQUESTS);
    this.keys = new KeySequence(creation.newKey);
    this.unconfirmed = new UnconfirmedOutput(params.acks ? MAX_UNACKED_RESPONSES : params.requests + RESPONSES_KEPT_BEYOND_REQUESTS);
  }

  /** Binds the stream endpoint and holds the creation request until it has something to say (XEP-0206 §3). */
  open(endpoint: StreamEndpoint, creation: BoshRequest, respond: Responder): RequestHandle {
    this.endpoint = endpoint;
    const pending = this.newPending(creation, respond, true);
    this.held.push(pending);
    this.deliverInbound(creation);
    this.settle();
    return this.handleFor(pending);
  }

  get heldCount(): number {
    return this.held.length;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  // ---- StreamOutput: what the stream endpoint sends ----

  send(element: Element, settled?: Settled): void {
    // Closing: it waits with the rest of the undelivered output for `finish`. Closed: nobody to give it to.
    if (this.state === 'closing') this.queue.push({ element, settled });
    if (this.state !== 'open') {
      if (this.state === 'closed') settled?.();
      return;
    }
    if (this.queue.length >= this.limits.maxQueuedStanzas) return this.overflow({ element, settled });
    if (this.queue.length === 0) this.queuedSince = this.scheduler.now();
    this.queue.push({ element, settled });
    // Coalesce everything emitted in this turn of the event loop into one response.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.scheduler.defer(() => this.flush());
    }
  }

  close(streamError?: Element): void {
    if (this.state !== 'open') return;
    const payloads = this.queue.map((item) => serializeXml(item.element));
    this.inTerminalBody = this.takeQueue();
    if (streamError) payloads.push(serializeXml(streamError));
    // XEP-0206 §7: a stream error travels in a remote-stream-error terminal body.
    this.terminalBody = { condition: streamError ? 'remote-stream-error' : undefined, payloads };
    this.state = 'closing';
    this.closedEndpoint = this.endpoint;
    this.endpoint = undefined;
    const oldest = this.held[0];
    if (oldest) {
      this.answerWithTerminalBody(oldest);
      this.finish('terminate');
    } else {
      // Nothing held: the terminal body waits for the client's next request, within the inactivity period.
      this.restartInactivityTimer();
    }
  }

  // ---- requests from the client ----

  handle(request: BoshRequest, respond: Responder): RequestHandle | undefined {
    if (this.state === 'closed') {
      respond(this.terminal('item-not-found'));
      return undefined;
    }
    if (this.state === 'closing') {
      // A stray rid must not take the terminal body meant for the real client (see `refuseStray`).
      if (classifyRid(request.rid, this.lastRid, this.params.requests) === 'out-of-window') {
        this.refuseStray(respond, 'rid outside the window');
        return undefined;
      }
      const pending = this.newPending(request, respond, false);
      this.answerWithTerminalBody(pending);
      this.finish('terminate');
      return undefined;
    }
    this.clearInactivityTimer();
    switch (classifyRid(request.rid, this.lastRid, this.params.requests)) {
      case 'repeat':
        return this.handleRepeat(request, respond);
      case 'out-of-window':
        this.refuseStray(respond, 'rid outside the window');
        return undefined;
      case 'ahead':
        return this.handleAhead(request, respond);
      case 'next': {
        const handle = this.process(request, respond);
        this.drainAhead();
        if (this.state === 'open') this.settle();
        return handle;
      }
    }
  }

  /**
   * §14.3: a rid seen before gets its buffered response, or takes over the request still waiting.
   * §15: with keys in use, the repeat must carry the key the original request carried.
   */
  private handleRepeat(request: BoshRequest, respond: Responder): RequestHandle | undefined {
    const cached = this.cache.get(request.rid);
    if (cached !== undefined) {
      if (!sameCredential(this.cache.keyOf(request.rid), request)) this.refuseStray(respond, 'invalid key on a repeated rid');
      else {
        respond(this.ok(cached));
        this.settle();
      }
      return undefined;
    }
    const waiting = this.held.find((p) => p.rid === request.rid) ?? this.ahead.get(request.rid)?.pending;
    if (waiting) {
      if (sameCredential(waiting.credential, request)) return this.replaceResponder(waiting, respond);
      this.refuseStray(respond, 'invalid key on a repeated rid');
      return undefined;
    }
    // §14.3: the response is gone. The session itself may be fine (a stray or forged request).
    this.refuseStray(respond, 'response no longer available for this rid');
    return undefined;
  }

  /**
   * A request that cannot belong to the session's real client as it stands (rid outside the window,
   * a response no longer buffered, a wrong key) gets a terminal item-not-found (§14.3, §15), but the
   * session goes on. The sid is a bearer secret, and a stray, replayed or forged request must not be
   * a way to end someone else's session. Deviation: XEP-0124 §14.3/§15 say "terminate the session";
   * Prosody keeps the session, ejabberd ends it; we keep it. A real client that lost track of its
   * rids gets the terminal answer and leaves; its session then ends by inactivity (§10).
   */
  private refuseStray(respond: Responder, reason: string): void {
    respond(this.terminal(new BoshError('item-not-found', reason).condition));
    if (this.state === 'open') this.settle();
    else if (this.state === 'closing') this.restartInactivityTimer();
  }

  /**
   * §14.3: a repeat of a request not yet answered. The old HTTP exchange gets a recoverable error
   * (the client has given up on it) and future data goes to the new one.
   */
  private replaceResponder(pending: PendingRequest, respond: Responder): RequestHandle {
    const previous = pending.respond;
    pending.respond = respond;
    previous(this.recoverableError());
    return this.handleFor(pending);
  }

  /** §14.2: a request ahead of a gap waits, unprocessed, until the missing rids arrive. */
  private handleAhead(request: BoshRequest, respond: Responder): RequestHandle | undefined {
    const existing = this.ahead.get(request.rid);
    if (existing) {
      if (sameCredential(existing.pending.credential, request)) return this.replaceResponder(existing.pending, respond);
      this.refuseStray(respond, 'invalid key on a repeated rid');
      return undefined;
    }
    if (this.exceedsSimultaneousRequests(request)) {
      this.fail(new BoshError('policy-violation', 'too many simultaneous requests'), respond);
      return undefined;
    }
    const pending = this.newPending(request, respond, false);
    this.ahead.set(request.rid, { request, pending });
    // If the gap is never filled, the client hears back within `wait` and resends (recoverable error).
    pending.timer = this.scheduler.setTimeout(() => {
      if (this.ahead.get(request.rid)?.pending !== pending) return;
      this.ahead.delete(request.rid);
      pending.answered = true;
      // 503 as well as the §17.3 body: this rid was never processed, and Strophe.js and StanzaJS
      // resend only after an HTTP error (they read type='error' as an empty answer and move on).
      pending.respond({ ...this.recoverableError(), status: 503 });
      this.settle();
    }, this.params.wait * 1000);
    return this.handleFor(pending);
  }

  private drainAhead(): void {
    for (let next = this.ahead.get(this.lastRid + 1); next && this.state === 'open'; next = this.ahead.get(this.lastRid + 1)) {
      this.ahead.delete(next.request.rid);
      if (next.pending.timer) this.scheduler.clearTimeout(next.pending.timer);
      next.pending.timer = undefined;
      this.process(next.request, next.pending.respond, next.pending);
    }
  }

  /** §11: more than `requests` unanswered at once (one more is allowed to pause or terminate). */
  private exceedsSimultaneousRequests(request: BoshRequest): boolean {
    const endsOrPauses = (r: BoshRequest): boolean => r.terminate || r.pause !== undefined;
    let allowance = endsOrPauses(request) ? 1 : 0;
    for (const buffered of this.ahead.values()) if (endsOrPauses(buffered.request)) allowance = 1;
    return this.held.length + this.ahead.size + 1 > this.params.requests + allowance;
  }

  /** Processes the request with the expected rid: the decision ladder for one in-order request. */
  private process(request: BoshRequest, respond: Responder, buffered?: PendingRequest): RequestHandle | undefined {
    const now = this.scheduler.now();
    // §15: keys are checked in rid order, before anything in the request takes effect. A wrong key
    // is refused without consuming the rid or the key sequence; the session goes on (`refuseStray`).
    if (!this.keys.accept(request.key, request.newKey)) {
      if (buffered) {
        buffered.answered = true;
        if (buffered.timer) this.scheduler.clearTimeout(buffered.timer);
      }
      this.refuseStray(respond, 'invalid key');
      return undefined;
    }
    if (!buffered && this.exceedsSimultaneousRequests(request)) {
      this.fail(new BoshError('policy-violation', 'too many simultaneous requests'), respond);
      return undefined;
    }
    const violation = this.pollingViolation(request, now);
    if (violation) {
      this.fail(violation, respond);
      return undefined;
    }
    this.lastRid = request.rid;
    this.lastArrivalAt = now;
    this.pauseMs = undefined;
    if (request.ack !== undefined && this.params.acks) this.cache.acknowledge(request.ack);
    // §9.1: an ack, or without one the rid itself, says which responses the client has. A client
    // that ends its session (§13) had every response answered before its terminate.
    this.unconfirmed.confirm(this.params.acks ? (request.ack ?? request.rid - 1) : request.terminate ? request.rid - 1 : request.rid - this.params.requests);

    if (request.pause !== undefined) return this.pause(request, respond, buffered);
    if (request.terminate) {
      this.terminateByClient(request, respond, buffered);
      return undefined;
    }

    const pending = buffered ?? this.newPending(request, respond, false);
    pending.respond = respond;
    this.held.push(pending);
    if (request.restart) {
      // XEP-0206 §5: the restart request's payloads, if any, are ignored.
      this.endpoint?.restart();
    } else {
      this.deliverInbound(request);
      if (request.payloads.length > 0) this.answerOnceHandled(pending);
    }
    this.noteAckReport(request);
    return this.handleFor(pending);
  }

  /**
   * §12: a polling session (hold=0) polling faster than `polling`: two empty polls within `polling`,
   * the first answered empty.
   *
   * Deliberately not enforced: the §11 rule for sessions that hold requests ("`requests` requests
   * unanswered, the newest empty, the last two closer than `polling`"). Read literally it ends
   * ordinary clients: one keeps a poll outstanding, sends a stanza (the poll is answered, the stanza
   * request held), and re-polls the instant the answer lands; a browser may send a stanza and the
   * next poll in the same instant. No deployed server enforces it for held sessions. A session that
   * holds requests is bounded by `requests` alone (`exceedsSimultaneousRequests`), and a new request
   * beyond `hold` answers the oldest at once (§8).
   */
  private pollingViolation(request: BoshRequest, now: number): BoshError | undefined {
    if (this.params.hold !== 0 || !isEmptyPoll(request)) return undefined;
    const tooSoon = now - this.lastArrivalAt < this.params.polling * 1000;
    if (tooSoon && this.previousWasIdlePoll) return new BoshError('policy-violation', 'polling too frequently');
    return undefined;
  }

  /** §10: answer everything now and stretch the inactivity period to the requested pause. */
  private pause(request: BoshRequest, respond: Responder, buffered: PendingRequest | undefined): RequestHandle | undefined {
    const seconds = request.pause as number;
    if (seconds > this.params.maxPause) {
      this.fail(new BoshError('policy-violation', `pause above maxpause (${this.params.maxPause})`), respond);
      return undefined;
    }
    this.deliverInbound(request);
    this.releaseAllHeld();
    if (buffered?.timer) this.scheduler.clearTimeout(buffered.timer);
    // §14.3: pause responses are not buffered for retransmission.
    respond(this.ok(encodeResponse(this.responseAttributes(request.rid, false))));
    this.lastAnsweredRid = request.rid;
    this.pauseMs = seconds * 1000;
    this.restartInactivityTimer();
    return undefined;
  }

  /**
   * §13: the payloads are forwarded, every held request is answered (the queued output goes to the
   * oldest), and the terminate request itself is acknowledged with type='terminate'.
   */
  private terminateByClient(request: BoshRequest, respond: Responder, buffered: PendingRequest | undefined): void {
    this.deliverInbound(request);
    this.releaseAllHeld();
    if (buffered?.timer) this.scheduler.clearTimeout(buffered.timer);
    const body = encodeResponse([['type', 'terminate']]);
    this.cache.put(request.rid, body, this.scheduler.now(), credentialOf(request));
    respond(this.ok(body));
    this.finish('terminate');
  }

  // ---- answering ----

  /** Keeps the held requests within bounds and answers when output is waiting. */
  private settle(): void {
    if (this.state !== 'open') return;
    while (this.held.length > this.params.hold && this.oldestAnswerable()) this.answerOldest();
    while (this.held[0]?.due === true && this.oldestAnswerable()) this.answerOldest();
    if (this.queue.length > 0 && this.oldestAnswerable()) this.answerOldest();
    // While a response carrying stanzas is not confirmed, a held request is answered (empty) sooner:
    // the client's next request confirms it (see UnconfirmedOutput), so an idle client's last
    // messages are not routed again should its node die or stop (BOSH_CONFIRMATION_PROMPT_MS).
    const waitMs = this.unconfirmed.waiting ? this.params.confirmationPromptMs : this.params.wait * 1000;
    for (const pending of this.held) {
      if (!pending.timer) pending.timer = this.scheduler.setTimeout(() => this.waitElapsed(pending), waitMs);
    }
    if (this.held.length === 0 && this.ahead.size === 0) this.restartInactivityTimer();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 'open' && this.queue.length > 0 && this.held.length > 0) this.settle();
  }

  /** §8: a held request is answered within `wait`, empty if nothing came. */
  private waitElapsed(pending: PendingRequest): void {
    pending.timer = undefined;
    if (pending.answered || this.state !== 'open') return;
    const index = this.held.indexOf(pending);
    if (index < 0) return;
    // Responses go in rid order (§8): everything held up to this one is answered now, or as soon as
    // its payloads are handled.
    for (const earlier of this.held.slice(0, index + 1)) earlier.due = true;
    this.settle();
  }

  /** Whether the oldest held request may be answered: its payloads have been handled. */
  private oldestAnswerable(): boolean {
    const oldest = this.held[0];
    return oldest !== undefined && !oldest.handling;
  }

  private answerOldest(): void {
    if (this.held.length === 0) return;
    // Drained before the request leaves `held`: if building the payloads throws, the safety net
    // still finds the request there and answers it (internal-server-error).
    const payloads = this.queue.map((item) => serializeXml(item.element));
    const items = this.takeQueue();
    const pending = this.held.shift() as PendingRequest;
    this.previousWasIdlePoll = pending.emptyPoll && payloads.length === 0;
    this.answer(pending, payloads);
    this.unconfirmed.record(pending.rid, items);
  }

  private releaseAllHeld(): void {
    while (this.held.length > 0) this.answerOldest();
  }

  private answer(pending: PendingRequest, payloads: string[]): void {
    if (pending.timer) this.scheduler.clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.answered = true;
    const body = encodeResponse(this.responseAttributes(pending.rid, pending.creation), payloads);
    const now = this.scheduler.now();
    this.cache.put(pending.rid, body, now, pending.credential);
    if (pending.rid > this.lastAnsweredRid) this.lastAnsweredRid = pending.rid;
    pending.respond(this.ok(body));
  }

  private responseAttributes(rid: number, creation: boolean): Array<readonly [string, string | number]> {
    const attributes: Array<readonly [string, string | number]> = creation ? [...(this.creationAttributes ?? [])] : [];
    if (creation) this.creationAttributes = undefined;
    // §9.2: with acks on, tell the client the highest rid received when it differs from this one.
    if (this.params.acks && (creation || this.lastRid !== rid)) attributes.push(['ack', creation ? rid : this.lastRid]);
    const report = this.pendingReport;
    if (report && !creation) {
      attributes.push(['report', report.rid], ['time', report.time]);
      this.pendingReport = undefined;
    }
    return attributes;
  }

  private pendingReport: { rid: number; time: number } | undefined;

  /**
   * §9.1: the client's ack shows it is missing a response that was sent a while ago: report it so the
   * client can ask for it again (its rid is still in the cache).
   */
  private noteAckReport(request: BoshRequest): void {
    if (!this.params.acks || request.ack === undefined || request.ack >= this.lastAnsweredRid) return;
    const missing = request.ack + 1;
    const sentAt = this.cache.sentAt(missing);
    if (sentAt === undefined) return;
    const time = this.scheduler.now() - sentAt;
    if (time >= ACK_REPORT_AFTER_MS) this.pendingReport = { rid: missing, time: Math.round(time) };
  }

  private answerWithTerminalBody(pending: PendingRequest): void {
    const terminal = this.terminalBody ?? { condition: undefined, payloads: [] };
    const attributes: Array<readonly [string, string]> = [['type', 'terminate']];
    if (terminal.condition) attributes.push(['condition', terminal.condition]);
    pending.answered = true;
    const index = this.held.indexOf(pending);
    if (index >= 0) this.held.splice(index, 1);
    if (pending.timer) this.scheduler.clearTimeout(pending.timer);
    // encodeResponse declares the stream prefix that <stream:error/> needs (XEP-0206 §7).
    pending.respond({ ...this.ok(encodeResponse(attributes, terminal.payloads)), condition: terminal.condition });
  }

  // ---- endings ----

  /** A terminal binding condition (§17.2): every waiting request hears it, then the session is gone. */
  fail(error: BoshError, respond?: Responder): void {
    if (this.state === 'closed') return;
    const response = this.terminal(error.condition);
    for (const pending of this.held) {
      if (pending.timer) this.scheduler.clearTimeout(pending.timer);
      pending.answered = true;
      pending.respond(response);
    }
    this.held.length = 0;
    respond?.(response);
    this.finish(error.condition);
  }

  /**
   * The safety net (safety/guard.ts): handling a request, a timer or a flush of this session threw.
   * This session alone ends with internal-server-error (§17.2), told on `respond` and on every held
   * request; what was queued goes back to the stream endpoint as undelivered (re-routed or bounced).
   */
  fault(err: unknown, where: string, respond?: Responder): void {
    this.events.faulted(this, err, where);
    if (this.state === 'closed') respond?.(this.terminal('internal-server-error'));
    else this.fail(new BoshError('internal-server-error'), respond);
  }

  /**
   * The client is not collecting its output (it stopped polling while others keep sending): rather
   * than grow without bound the session ends with policy-violation (§17.2). The queued stanzas and
   * this one are handed back to the stream endpoint as undelivered, to be re-routed or bounced.
   */
  private overflow(item: Outgoing): void {
    this.queue.push(item);
    this.fail(new BoshError('policy-violation', 'too much output waiting for the client'));
  }

  /** This node is stopping: answer everything with system-shutdown (§17.2). */
  shutdown(): void {
    this.fail(new BoshError('system-shutdown'));
  }

  private finish(reason: StreamEndReason | TerminalCondition): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearInactivityTimer();
    for (const pending of this.held) {
      if (pending.timer) this.scheduler.clearTimeout(pending.timer);
      if (!pending.answered) pending.respond(this.ok(encodeResponse([])));
    }
    this.held.length = 0;
    for (const { pending } of this.ahead.values()) {
      if (pending.timer) this.scheduler.clearTimeout(pending.timer);
      pending.respond(this.terminal('item-not-found'));
    }
    this.ahead.clear();
    const endpoint = this.endpoint ?? this.closedEndpoint;
    this.endpoint = undefined;
    this.closedEndpoint = undefined;
    // Not known to be received, oldest first: sent and unconfirmed, in the terminal body, still queued.
    const undelivered = [...this.unconfirmed.takeAll(), ...this.inTerminalBody, ...this.queue];
    this.inTerminalBody = [];
    this.queue = [];
    const rerouted = (): void => settleAll(undelivered);
    // A fault in the endpoint's own ending is reported; the sid is still forgotten below.
    if (endpoint)
      guard(
        () =>
          endpoint.end(
            streamEndReason(reason),
            undelivered.map((item) => item.element),
            rerouted,
          ),
        (err) => {
          rerouted();
          this.events.faulted(this, err, 'end');
        },
      );
    else rerouted();
    this.events.closed(this, reason);
  }

  private restartInactivityTimer(): void {
    this.clearInactivityTimer();
    const ms = this.pauseMs ?? this.params.inactivity * 1000;
    this.inactivityTimer = this.scheduler.setTimeout(() => {
      this.inactivityTimer = undefined;
      // §10: with nothing held for longer than inactivity, the session ends silently.
      if (this.held.length === 0 && this.ahead.size === 0) this.finish('inactivity');
    }, ms);
  }

  private clearInactivityTimer(): void {
    if (this.inactivityTimer) this.scheduler.clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
  }

  /**
   * The request carried stanzas the endpoint is still handling (routing a message, writing it to the
   * bus): its answer waits until they are handled, so the client's 200 means the server has them.
   */
  private answerOnceHandled(pending: PendingRequest): void {
    const handled = this.endpoint?.handled?.();
    if (!handled) return;
    pending.handling = true;
    void handled.then(() => {
      pending.handling = false;
      if (this.state !== 'open' || pending.answered) return;
      try {
        this.settle();
      } catch (err) {
        this.fault(err, 'answer after handling');
      }
    });
  }

  // ---- small pieces ----

  private deliverInbound(request: BoshRequest): void {
    request.payloads.forEach((payload, index) => {
      // The endpoint may end the stream while handling an earlier payload of the same body.
      if (!this.endpoint) return;
      // Limits per stanza, not only per body: the stanza alone is refused and the session goes on.
      // Its size was measured on the request bytes while parsing; nothing is serialised again.
      if (payload instanceof TruncatedElement) this.endpoint.refuse(payload, 'too-deep');
      else if ((request.payloadBytes[index] ?? 0) > this.limits.maxStanzaBytes) this.endpoint.refuse(payload, 'too-big');
      else this.endpoint.receive(payload);
    });
  }

  private takeQueue(): Outgoing[] {
    if (this.queue.length === 0) return [];
    const items = this.queue;
    this.queue = [];
    this.events.delivered(items.length, (this.scheduler.now() - this.queuedSince) / 1000);
    return items;
  }

  private newPending(request: BoshRequest, respond: Responder, creation: boolean): PendingRequest {
    return {
      rid: request.rid,
      respond,
      creation,
      emptyPoll: !creation && isEmptyPoll(request),
      timer: undefined,
      answered: false,
      credential: credentialOf(request),
      handling: false,
      due: false,
    };
  }

  /**
   * The client dropped the connection of a waiting request. It is answered at once (into the void)
   * with an empty, cached body, so a retransmission of that rid still succeeds and nothing queued is lost.
   */
  private handleFor(pending: PendingRequest): RequestHandle {
    return {
      aborted: () => {
        if (pending.answered || this.state !== 'open') return;
        const index = this.held.indexOf(pending);
        if (index < 0) return;
        // Answer in rid order: the earlier held requests are answered first, as always.
        while (this.held.length > 0 && this.held[0] !== pending) this.answerOldest();
        this.held.shift();
        this.answer(pending, []);
        this.settle();
      },
    };
  }

  private ok(body: string): BoshResponse {
    return { status: 200, body, contentType: this.params.contentType };
  }

  /** §17.3: a recoverable binding error; the client resends the request. */
  private recoverableError(): BoshResponse {
    return { status: 200, body: encodeResponse([['type', 'error']]), contentType: this.params.contentType, recoverable: true };
  }

  private terminal(condition: TerminalCondition): BoshResponse {
    const status = this.params.ver === undefined ? legacyHttpStatus(condition) : 200;
    const body =
      status === 200
        ? encodeResponse([
            ['type', 'terminate'],
            ['condition', condition],
          ])
        : '';
    return { status, body, contentType: this.params.contentType, condition };
  }
}

/** §15: what proves a request is the client's own: its key, or the newkey of the creation request. */
function credentialOf(request: BoshRequest): string | undefined {
  return (request.key ?? request.newKey)?.toLowerCase();
}

/** §14.3 and §15: a repeated request is identical to the original, keys included. */
function sameCredential(original: string | undefined, repeat: BoshRequest): boolean {
  return original === undefined || original === credentialOf(repeat);
}

function streamEndReason(reason: StreamEndReason | TerminalCondition): StreamEndReason {
  switch (reason) {
    case 'terminate':
    case 'inactivity':
    case 'shutdown':
    case 'error':
      return reason;
    case 'system-shutdown':
      return 'shutdown';
    default:
      return 'error';
  }
}
