import type { Element } from 'ltx';
import type { LocalResource } from '../routing/router';
import { guard } from '../safety/guard';
import { serializeXml } from '../xml';
import { sendCarbons } from './carbons';
import type { IqAnswer } from './iq-handlers';
import { makeJid, parseJid, type Jid } from '../base/jid';
import { NS_CLIENT, NS_SASL } from '../base/namespaces';
import { StreamNegotiation, streamFeatures } from './negotiation/stream-negotiation';
import type { XmppServices } from './services';
import { errorReply, StanzaError } from '../base/stanza-error';
import { StanzaGate, type GateVerdict } from './stanza-gate';
import { stripForgedStanzaIds } from './stanza-ids';
import type { RefusalReason, Settled, StreamEndpoint, StreamEndReason, StreamInfo, StreamOutput } from '../base/stream';
import { streamError, type StreamErrorCondition } from '../base/stream-error';

/** The actor's life: negotiating the stream (StreamNegotiation), bound, or gone. */
type Phase = 'negotiating' | 'bound' | 'closed';

/** How a session ends: the transport ended the stream, or the server closes it with a stream error. */
type Ending =
  | { readonly by: 'transport'; readonly reason: StreamEndReason; readonly undelivered: readonly Element[]; readonly rerouted: (() => void) | undefined }
  | { readonly by: 'server'; readonly condition: StreamErrorCondition; readonly text: string };

/**
 * One client's XMPP session, the part ejabberd's c2s plays. Negotiation (SASL, restart, bind) is
 * StreamNegotiation's, the checks on what the client sends are the StanzaGate's; the actor keeps the
 * mailbox (one inbound element at a time, in order, even when a step is async), hands stanzas of a
 * bound session to the router, presence and iq modules, and ends through one path, `close`.
 */
export class SessionActor implements StreamEndpoint, LocalResource {
  private phase: Phase = 'negotiating';
  private busy = false;
  private readonly mailbox: Element[] = [];
  /** Told when the mailbox is empty and nothing is being handled (see `handled`). */
  private idleWaiters: Array<() => void> = [];
  private loginTimer: unknown;
  /** Until the resource is bound; then only its result, the full JID, is kept (`boundJid`). */
  private negotiation: StreamNegotiation | undefined;
  private boundJid: Jid | undefined;
  private readonly gate: StanzaGate;

  constructor(
    private readonly output: StreamOutput,
    private readonly info: StreamInfo,
    private readonly services: XmppServices,
  ) {
    this.negotiation = new StreamNegotiation(services, info, {
      send: (element) => this.send(element),
      reply: (stanza, error) => this.reply(stanza, error),
      close: (condition, text) => this.close({ by: 'server', condition, text }),
      bind: () => this.bind(),
    });
    this.gate = new StanzaGate(services.limits, info.domain, (domain) => services.components.find(domain) !== undefined);
    const { loginTimeoutMs } = services.limits;
    if (loginTimeoutMs > 0) {
      this.loginTimer = services.timers.setTimeout(
        () =>
          guard(
            () => this.loginExpired(),
            (err) => this.fault(err, 'timer'),
          ),
        loginTimeoutMs,
      );
    }
    this.negotiation.sendFeatures();
  }

  get jid(): Jid {
    return this.negotiation?.jid ?? (this.boundJid as Jid);
  }

  get resource(): string {
    return this.jid.resource;
  }

  // ---- StreamEndpoint ----

  restart(): void {
    // A restart of a bound stream (past negotiation) is told the post-authentication features again.
    if (this.negotiation) this.negotiation.restart();
    else this.send(streamFeatures(true));
  }

  receive(element: Element): void {
    if (this.phase === 'closed') return;
    if (this.busy) {
      const verdict = this.gate.queue(element, this.mailbox.length, this.phase === 'bound');
      if (verdict.kind === 'pass') this.mailbox.push(element);
      else this.enforce(element, verdict);
      return;
    }
    this.process(element);
  }

  handled(): Promise<void> | undefined {
    if (!this.busy || this.phase === 'closed') return undefined;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private tellIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  refuse(element: Element, reason: RefusalReason): void {
    this.enforce(element, this.gate.refused(reason, this.phase === 'bound'));
  }

  end(reason: StreamEndReason, undelivered: readonly Element[], rerouted?: () => void): void {
    // The server closed the stream itself before: what its client never got is still routed again.
    if (this.phase === 'closed') {
      if (this.boundJid) void this.leave([], undelivered, false).finally(() => rerouted?.());
      else rerouted?.();
      return;
    }
    this.close({ by: 'transport', reason, undelivered, rerouted });
  }

  // ---- LocalResource ----

  deliver(stanza: Element, settled?: Settled): void {
    if (this.phase === 'closed') {
      // Gone while this was on its way (stored messages read at login, a bus entry): what someone
      // keeps until a client has it is routed again, then settled, as at the session's end.
      if (settled && this.boundJid) void this.leave([], [stanza], false).finally(settled);
      else settled?.();
      return;
    }
    // The safety net: a fault while delivering to this session ends this session, not the sender's.
    guard(
      () => this.send(stanza, settled),
      (err) => this.fault(err, 'delivery'),
    );
  }

  replaced(): void {
    // RFC 6120 §7.7.2.2: the older session of a conflicting resource is closed with <conflict/>.
    this.close({ by: 'server', condition: 'conflict', text: 'replaced by a new session with the same resource' });
  }

  closeWith(condition: StreamErrorCondition, text: string): void {
    this.close({ by: 'server', condition, text });
  }

  private send(element: Element, settled?: Settled): void {
    this.services.observer.stanzaOut(element.name);
    if (this.services.logStanzas) this.services.logger.debug({ session: this.info.streamId, out: serializeXml(element) }, 'stanza out');
    this.output.send(element, settled);
  }

  // ---- the mailbox ----

  private process(element: Element): void {
    this.services.observer.stanzaIn(element.name);
    // Stanzas carry message bodies (and SASL data): logged only when LOG_STANZAS asks for it.
    if (this.services.logStanzas) {
      const text = element.attrs.xmlns === NS_SASL ? `<${element.name} xmlns='${NS_SASL}'>[redacted]` : serializeXml(element);
      this.services.logger.debug({ session: this.info.streamId, in: text }, 'stanza in');
    }
    const result = guard(
      () => this.dispatch(element),
      (err) => this.failed(element, err),
    );
    if (result) {
      this.busy = true;
      void result.finally(() => this.drainMailbox());
    }
  }

  private drainMailbox(): void {
    this.busy = false;
    while (!this.busy && this.mailbox.length > 0 && this.phase !== 'closed') {
      this.process(this.mailbox.shift() as Element);
    }
    if (!this.busy || this.phase === 'closed') this.tellIdle();
  }

  /**
   * Handling one element failed. A StanzaError thrown deep is that stanza's answer (rendered here,
   * once). A failure while the stores are unreachable (cluster mode: Redis down) is an outage: the
   * element gets a defined error of type 'wait' and the session goes on; during SASL the client hears
   * temporary-auth-failure. Anything else is a fault (a bug): see `fault`.
   */
  private failed(element: Element, err: unknown): void {
    if (this.phase === 'closed') return;
    if (err instanceof StanzaError && this.phase === 'bound') return this.reply(element, err);
    if (this.services.storesReady()) return this.fault(err, `handling <${element.name}/>`);
    this.services.logger.error({ err, session: this.info.streamId, stanza: element.name }, 'stanza handling failed; stores unavailable');
    if (this.phase === 'bound') {
      this.reply(element, new StanzaError('internal-server-error', 'temporarily unable to process this; try again', 'wait'));
    } else {
      this.negotiation?.storesUnavailable();
    }
  }

  /**
   * The safety net (safety/guard.ts): handling something for this session threw. The error is
   * logged with the session's correlation id (the stream id) and this session alone ends, with an
   * internal-server-error stream error (RFC 6120 §4.9.3.8); what it had not delivered is re-routed.
   */
  fault(err: unknown, where: string): void {
    this.services.logger.error({ err, session: this.info.streamId, where }, 'session fault; ending the session');
    this.close({ by: 'server', condition: 'internal-server-error', text: 'internal error' });
  }

  /** The login deadline passed with no resource bound: the stream closes (RFC 6120 §4.9.3.4). */
  private loginExpired(): void {
    this.loginTimer = undefined;
    if (this.phase !== 'negotiating') return;
    this.close({ by: 'server', condition: 'connection-timeout', text: `no login within ${Math.round(this.services.limits.loginTimeoutMs / 1000)} seconds` });
  }

  private stopLoginTimer(): void {
    if (this.loginTimer === undefined) return;
    this.services.timers.clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  private dispatch(element: Element): Promise<void> | void {
    switch (this.phase) {
      case 'negotiating':
        return this.negotiation?.receive(element);
      case 'bound':
        return this.active(element);
      case 'closed':
        return undefined;
    }
  }

  /** Negotiation chose the resource: the session is bound, here and in the router. */
  private async bind(): Promise<void> {
    this.phase = 'bound';
    this.stopLoginTimer();
    await this.services.router.bind(this);
    if (this.phase !== 'bound') return;
    // Negotiation is over: the session keeps its JID, not the negotiation state (one per idle session).
    this.boundJid = this.jid;
    this.negotiation = undefined;
    this.services.events.emit('sessionStarted', this.sessionEventFields());
  }

  /** What sessionStarted and sessionEnded say of this session. */
  private sessionEventFields() {
    const { streamId, remoteAddress } = this.info;
    return { node: this.services.router.node, at: new Date(), jid: this.jid.full, resource: this.resource, streamId, remoteAddress };
  }

  // ---- stanzas of a bound session ----

  private active(element: Element): Promise<void> | void {
    const verdict = this.gate.check(element, this.jid);
    if (verdict.kind !== 'pass') return this.enforce(element, verdict);
    // For a component (the gate let only those through from other domains): it answers, not the
    // server. Presence still goes through the presence service, which remembers directed presence
    // so the component hears 'unavailable' when this session ends (RFC 6121 §4.6.3).
    if (verdict.to && verdict.to.domain !== this.info.domain && element.name !== 'presence') {
      return this.services.router.route(element, verdict.to).then(() => undefined);
    }
    switch (element.name) {
      case 'presence':
        return this.services.presence.fromClient(this, element);
      case 'iq':
        return this.iq(element, verdict.to);
      case 'message':
        return this.message(element, verdict.to);
    }
  }

  private async message(message: Element, to: Jid | undefined): Promise<void> {
    // RFC 6120 §10.3.1: a message with no 'to' is for the sender's own bare JID.
    const target = to ?? makeJid(this.jid.local, this.jid.domain);
    if (target.local === '') return this.reply(message, new StanzaError('service-unavailable', 'the server does not take messages'));
    // XEP-0359 §3.1: only this server says which archive id a message has.
    stripForgedStanzaIds(message, this.info.domain);
    await this.services.router.route(message, target);
    // XEP-0280 §7: the user's other resources see what this one sent.
    await sendCarbons(this.services.router, 'sent', message, this.jid.bare, [this]);
  }

  private async iq(iq: Element, to: Jid | undefined): Promise<void> {
    const type = iq.attrs.type as string;
    const { iq: handlers, router, domain } = this.services;
    if (to === undefined) {
      if (type === 'result' || type === 'error') return;
      // RFC 6120 §10.3.3: no 'to' means the user's own account; clients also send server queries
      // (ping, carbons, version) that way, so what the account does not handle goes to the server.
      const own = makeJid(this.jid.local, this.jid.domain);
      const payload = iq.children.find((c): c is Element => typeof c !== 'string');
      const forAccount = payload !== undefined && handlers.account.handles(payload.name, String(payload.attrs.xmlns));
      const request = { from: this.jid, target: forAccount ? own : makeJid('', domain) };
      return this.answer(iq, await (forAccount ? handlers.account : handlers.server).handle(iq, request, (stanza) => this.interim(iq, stanza)));
    }
    if (to.local === '') {
      // RFC 6120 §10.4: for the server itself.
      if (type === 'result' || type === 'error') return;
      return this.answer(iq, await handlers.server.handle(iq, { from: this.jid, target: to }, (stanza) => this.interim(iq, stanza)));
    }
    if (to.resource === '' && (type === 'get' || type === 'set')) {
      // RFC 6120 §10.5.4: the server answers for the account.
      return this.answer(iq, await handlers.account.handle(iq, { from: this.jid, target: to }, (stanza) => this.interim(iq, stanza)));
    }
    await router.route(iq, to);
  }

  /**
   * A stanza an iq handler sends ahead of its answer (XEP-0313 §4.1.2 result messages): to this
   * client, from the address the iq was sent to unless the handler said otherwise.
   */
  private interim(request: Element, stanza: Element): void {
    if (stanza.attrs.from === undefined && request.attrs.to !== undefined) stanza.attrs.from = request.attrs.to;
    stanza.attrs.to = this.jid.full;
    stanza.attrs.xmlns ??= NS_CLIENT;
    this.send(stanza);
  }

  private answer(request: Element, answer: IqAnswer): void {
    if (answer instanceof StanzaError) return this.reply(request, answer);
    // Clients match the reply by id and by its sender: the address they wrote to.
    if (request.attrs.to !== undefined) answer.attrs.from = request.attrs.to;
    answer.attrs.to = this.jid.full;
    this.send(answer);
  }

  /** A gate's refusal: this stanza alone is answered with an error, or the stream ends. */
  private enforce(element: Element, verdict: GateVerdict): void {
    if (verdict.kind === 'refuse') this.reply(element, verdict.error);
    else if (verdict.kind === 'close') this.close({ by: 'server', condition: verdict.condition, text: verdict.text });
  }

  private reply(stanza: Element, error: StanzaError): void {
    const reply = errorReply(stanza, error);
    if (!reply) return;
    // The reply comes from the address the client wrote to (or the server), to the client itself.
    reply.attrs.from = (stanza.attrs.to as string | undefined) ?? this.info.domain;
    reply.attrs.to = this.jid.full;
    this.send(reply);
  }

  // ---- the one way out ----

  /**
   * Every ending passes here, once: the transport ended the stream (terminate, inactivity, shutdown),
   * or the server closes it (a stream error, a replaced resource, a fault, the login deadline).
   * A bound session leaves the router; its contacts hear 'unavailable' and what never reached the
   * client is re-routed.
   */
  private close(ending: Ending): void {
    if (this.phase === 'closed') return;
    const wasBound = this.phase === 'bound';
    this.phase = 'closed';
    this.negotiation?.stop();
    // Messages the client sent and the transport acknowledged, not handled yet: they still go out.
    const unsent = wasBound ? this.mailbox.filter((element) => element.name === 'message') : [];
    this.mailbox.length = 0;
    this.tellIdle();
    this.stopLoginTimer();
    if (ending.by === 'transport') this.services.logger.debug({ session: this.info.streamId, reason: ending.reason, jid: this.jid.full }, 'session ended');
    if (wasBound) this.services.router.unbind(this);
    if (wasBound) this.ended(ending);
    if (ending.by === 'server') this.output.close(streamError(ending.condition, ending.text));
    const rerouted = ending.by === 'transport' ? ending.rerouted : undefined;
    if (wasBound) void this.leave(unsent, ending.by === 'transport' ? ending.undelivered : [], true).finally(() => rerouted?.());
    else rerouted?.();
  }

  private ended(ending: Ending): void {
    const condition = ending.by === 'server' ? ending.condition : undefined;
    // RFC 6120 §7.7.2.2: a conflict closes the older session of a resource bound again.
    const reason = ending.by === 'transport' ? ending.reason : condition === 'conflict' ? 'replaced' : 'error';
    this.services.events.emit('sessionEnded', {
      ...this.sessionEventFields(),
      reason,
      condition,
    });
  }

  /** RFC 6121 §4.5.4 and XEP-0206 §7: contacts hear 'unavailable'; what never reached the client is re-routed. */
  private leave(unsent: readonly Element[], undelivered: readonly Element[], announce: boolean): Promise<void> {
    const work = this.departure(unsent, undelivered, announce);
    this.services.departures.add(work);
    void work.finally(() => this.services.departures.delete(work));
    return work;
  }

  private async departure(unsent: readonly Element[], undelivered: readonly Element[], announce: boolean): Promise<void> {
    // Each step on its own: one failure must not keep the others (above all the re-routing) from happening.
    for (const message of unsent) {
      const verdict = this.gate.check(message, this.jid);
      if (verdict.kind === 'pass') await this.attempt('route a message the client sent', () => this.message(message, verdict.to));
    }
    if (announce) await this.attempt('tell contacts the session ended', () => this.services.presence.sessionEnded(this));
    for (const stanza of undelivered) {
      if (stanza.name === 'presence' || stanza.attrs.type === 'error' || isCarbon(stanza)) continue;
      const to = parseJid(String(stanza.attrs.to ?? ''));
      // Messages go to another resource or to offline storage; iqs bounce (service-unavailable).
      if (to && to.local !== '') await this.attempt('route again what the client never got', () => this.services.router.route(stanza, to));
    }
  }

  private async attempt(what: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.services.logger.error({ err, session: this.info.streamId }, `session end: could not ${what}`);
    }
  }
}

function isCarbon(message: Element): boolean {
  return message.getChild('sent', 'urn:xmpp:carbons:2') !== undefined || message.getChild('received', 'urn:xmpp:carbons:2') !== undefined;
}
