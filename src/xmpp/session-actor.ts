import { randomBytes } from 'node:crypto';
import { Element } from 'ltx';
import { TokenBucket } from '../limits/token-bucket';
import { serializeXml } from '../xml';
import { guard } from '../safety/guard';
import { sendCarbons } from './carbons';
import { makeJid, normaliseResource, parseJid, type Jid } from './jid';
import { NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION } from './namespaces';
import type { OnlineResource } from './online-resource';
import { NS_ROSTER_VER } from './roster/roster-service';
import { failure, type PasswordGate, type SaslExchange, type SaslFailure, type SaslStep } from './sasl/mechanism';
import { PlainExchange } from './sasl/plain';
import { ScramExchange } from './sasl/scram';
import type { XmppServices } from './services';
import { errorReply, StanzaError } from './stanza-error';
import type { RefusalReason, StreamEndpoint, StreamEndReason, StreamInfo, StreamOutput } from './stream';
import { streamError, type StreamErrorCondition } from './stream-error';
import type { IqAnswer } from './iq-handlers';

/** RFC 6120 stream phases: before SASL, after SASL success (awaiting restart), bound, gone. */
type Phase = 'unauthenticated' | 'authenticated' | 'restarted' | 'bound' | 'closed';

const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/**
 * One client's XMPP session, the part ejabberd's c2s plays: SASL, restart, bind, then stanzas to and
 * from the router, presence and roster services. A mailbox: one inbound element at a time, in order,
 * even when a step is async.
 */
export class SessionActor implements StreamEndpoint, OnlineResource {
  private phase: Phase = 'unauthenticated';
  private sasl: SaslExchange | undefined;
  private mechanism: Mechanism = 'PLAIN';
  private authFailures = 0;
  private username = '';
  private busy = false;
  private readonly mailbox: Element[] = [];
  private loginTimer: unknown;
  private readonly rate: TokenBucket;
  jid: Jid;
  resource = '';
  available = false;
  priority = 0;
  lastPresence: Element | undefined;
  readonly directed = new Set<string>();
  get node(): string {
    return this.services.router.node;
  }
  interested = false;
  carbons = false;

  constructor(
    private readonly output: StreamOutput,
    private readonly info: StreamInfo,
    private readonly services: XmppServices,
  ) {
    this.jid = makeJid('', info.domain);
    this.rate = new TokenBucket(services.limits.stanzasPerSecond, services.limits.stanzaBurst);
    const { loginTimeoutMs } = services.limits;
    if (loginTimeoutMs > 0) {
      this.loginTimer = services.timers.setTimeout(() => guard(() => this.loginExpired(), (err) => this.fault(err, 'timer')), loginTimeoutMs);
    }
    this.sendFeatures();
  }

  // ---- StreamEndpoint ----

  restart(): void {
    // XEP-0206 §5 / RFC 6120 §6.4.6: after SASL success, a restart opens the post-auth stream.
    if (this.phase === 'authenticated') this.phase = 'restarted';
    this.sendFeatures();
  }

  receive(element: Element): void {
    if (this.phase === 'closed') return;
    if (this.busy) {
      if (this.mailbox.length >= this.services.limits.maxInboxStanzas) return this.inboxFull(element);
      this.mailbox.push(element);
      return;
    }
    this.process(element);
  }

  /**
   * The mailbox is full: the client sends faster than a slow step (a store) lets the session work.
   * A stanza of a bound session is refused with resource-constraint of type 'wait' (RFC 6120
   * §8.3.3.18: retry later) and the session goes on; anything before binding, where no client has a
   * reason to send much, closes the stream with policy-violation.
   */
  private inboxFull(element: Element): void {
    const stanza = element.name === 'message' || element.name === 'presence' || element.name === 'iq';
    if (this.phase === 'bound' && stanza) {
      this.reply(element, new StanzaError('resource-constraint', 'too many stanzas waiting to be processed; slow down', 'wait'));
    } else {
      this.fail('policy-violation', 'too many elements waiting to be processed');
    }
  }

  refuse(element: Element, reason: RefusalReason): void {
    const text = reason === 'too-big' ? 'stanza larger than the size limit' : 'stanza nested deeper than the depth limit';
    if (this.phase !== 'bound') {
      this.fail('policy-violation', text);
      return;
    }
    // Only this stanza is refused (a too-deep one arrives without its content, so none is echoed).
    this.reply(element, new StanzaError('policy-violation', text));
  }

  end(reason: StreamEndReason, undelivered: readonly Element[]): void {
    if (this.phase === 'closed') return;
    const wasBound = this.phase === 'bound';
    this.phase = 'closed';
    this.mailbox.length = 0;
    this.stopLoginTimer();
    this.services.logger.debug({ session: this.info.streamId, reason, jid: this.jid.full }, 'session ended');
    if (!wasBound) return;
    this.services.router.unbind(this);
    void this.leave(undelivered);
  }

  /** RFC 6121 §4.5.4 and XEP-0206 §7: contacts hear 'unavailable'; what never reached the client is re-routed. */
  private leave(undelivered: readonly Element[]): Promise<void> {
    const work = this.departure(undelivered);
    this.services.departures.add(work);
    void work.finally(() => this.services.departures.delete(work));
    return work;
  }

  private async departure(undelivered: readonly Element[]): Promise<void> {
    try {
      await this.services.presence.sessionEnded(this);
      for (const stanza of undelivered) {
        if (stanza.name === 'presence' || stanza.attrs.type === 'error' || isCarbon(stanza)) continue;
        const to = parseJid(String(stanza.attrs.to ?? ''));
        // Messages go to another resource or to offline storage; iqs bounce (service-unavailable).
        if (to && to.local !== '') await this.services.router.route(stanza, to);
      }
    } catch (err) {
      this.services.logger.error({ err, session: this.info.streamId }, 'failed to end session cleanly');
    }
  }

  // ---- LocalResource ----

  deliver(stanza: Element): void {
    if (this.phase === 'closed') return;
    // The safety net: a fault while delivering to this session ends this session, not the sender's.
    guard(() => this.send(stanza), (err) => this.fault(err, 'delivery'));
  }

  replaced(): void {
    // RFC 6120 §7.7.2.2: the older session of a conflicting resource is closed with <conflict/>.
    this.fail('conflict', 'replaced by a new session with the same resource');
    void this.leave([]);
  }

  private send(element: Element): void {
    this.services.observer.stanzaOut(element.name);
    if (this.services.logStanzas) this.services.logger.debug({ session: this.info.streamId, out: serializeXml(element) }, 'stanza out');
    this.output.send(element);
  }

  // ---- the mailbox ----

  private process(element: Element): void {
    this.services.observer.stanzaIn(element.name);
    // Stanzas carry message bodies (and SASL data): logged only when LOG_STANZAS asks for it.
    if (this.services.logStanzas) {
      const text = element.attrs.xmlns === NS_SASL ? `<${element.name} xmlns='${NS_SASL}'>[redacted]` : serializeXml(element);
      this.services.logger.debug({ session: this.info.streamId, in: text }, 'stanza in');
    }
    const result = guard(() => this.dispatch(element), (err) => this.failed(element, err));
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
    if (this.phase === 'unauthenticated') {
      this.saslFailure(failure('temporary-auth-failure', 'the account store is unavailable; try again'));
    } else if (this.phase === 'bound') {
      this.reply(element, new StanzaError('internal-server-error', 'temporarily unable to process this; try again', 'wait'));
    } else {
      this.fail('internal-server-error', 'the stores are unavailable; try again');
    }
  }

  /**
   * The safety net (safety/guard.ts): handling something for this session threw. The error is
   * logged with the session's correlation id (the stream id) and this session alone ends, with an
   * internal-server-error stream error (RFC 6120 §4.9.3.8); what it had not delivered is re-routed.
   */
  fault(err: unknown, where: string): void {
    this.services.logger.error({ err, session: this.info.streamId, where }, 'session fault; ending the session');
    this.fail('internal-server-error', 'internal error');
  }

  /** The login deadline passed with no resource bound: the stream closes (RFC 6120 §4.9.3.4). */
  private loginExpired(): void {
    this.loginTimer = undefined;
    if (this.phase === 'bound' || this.phase === 'closed') return;
    this.fail('connection-timeout', `no login within ${Math.round(this.services.limits.loginTimeoutMs / 1000)} seconds`);
  }

  private stopLoginTimer(): void {
    if (this.loginTimer === undefined) return;
    this.services.timers.clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  private dispatch(element: Element): Promise<void> | void {
    switch (this.phase) {
      case 'unauthenticated':
        return this.authenticate(element);
      case 'authenticated':
        // RFC 6120 §6.4.6: nothing but a stream restart may follow SASL success.
        return this.fail('not-authorized', 'restart the stream after authentication');
      case 'restarted':
        return this.beforeBind(element);
      case 'bound':
        return this.active(element);
      case 'closed':
        return undefined;
    }
  }

  // ---- SASL (RFC 6120 §6) ----

  private authenticate(element: Element): Promise<void> | void {
    if (element.attrs.xmlns !== NS_SASL) return this.fail('not-authorized', 'authenticate first');
    switch (element.name) {
      case 'auth': {
        const mechanism = element.attrs.mechanism as string | undefined;
        if (!MECHANISMS.includes(mechanism as Mechanism)) return this.saslFailure(failure('invalid-mechanism'));
        this.mechanism = mechanism as Mechanism;
        this.sasl = this.exchange(this.mechanism);
        const initial = decodeSaslData(element.getText());
        if (initial === null) return this.saslFailure(failure('incorrect-encoding'));
        return this.sasl.start(initial).then((step) => this.saslStep(step));
      }
      case 'response': {
        if (!this.sasl) return this.saslFailure(failure('malformed-request', 'no exchange in progress'));
        const data = decodeSaslData(element.getText());
        if (data === null) return this.saslFailure(failure('incorrect-encoding'));
        return this.sasl.respond(data ?? Buffer.alloc(0)).then((step) => this.saslStep(step));
      }
      case 'abort':
        return this.saslFailure(failure('aborted'));
      default:
        return this.fail('not-authorized', 'unexpected SASL element');
    }
  }

  private exchange(mechanism: Mechanism): SaslExchange {
    const { accounts, scramIterations, authThrottle, domain } = this.services;
    // Brute-force protection: failures slowed down per account and address group, never a lockout.
    const gate: PasswordGate = (username, check) => authThrottle.attempt(username, this.info.remoteAddress, check);
    switch (mechanism) {
      case 'PLAIN':
        return new PlainExchange(accounts, domain, gate);
      case 'SCRAM-SHA-1':
        return new ScramExchange('SHA-1', accounts, domain, scramIterations, gate);
      case 'SCRAM-SHA-256':
        return new ScramExchange('SHA-256', accounts, domain, scramIterations, gate);
    }
  }

  private saslStep(step: SaslStep): void {
    if (this.phase !== 'unauthenticated') return;
    switch (step.kind) {
      case 'challenge':
        this.send(new Element('challenge', { xmlns: NS_SASL }).t(step.data.length ? step.data.toString('base64') : '='));
        return;
      case 'success': {
        this.services.observer.authenticated(this.mechanism, true);
        this.sasl = undefined;
        this.username = step.username;
        this.jid = makeJid(step.username, this.info.domain);
        this.phase = 'authenticated';
        const success = new Element('success', { xmlns: NS_SASL });
        if (step.data) success.t(step.data.toString('base64'));
        this.send(success);
        return;
      }
      case 'failure':
        this.saslFailure(step);
    }
  }

  private saslFailure(step: SaslFailure): void {
    if (step.condition !== 'aborted' && step.condition !== 'invalid-mechanism') {
      this.services.observer.authenticated(this.mechanism, false);
    }
    this.sasl = undefined;
    const element = new Element('failure', { xmlns: NS_SASL });
    element.c(step.condition);
    if (step.text) element.c('text').t(step.text);
    this.send(element);
    if (step.condition !== 'aborted' && ++this.authFailures >= this.services.limits.maxAuthFailures) {
      this.fail('policy-violation', 'too many failed authentication attempts');
    }
  }

  // ---- resource binding (RFC 6120 §7) ----

  private beforeBind(element: Element): Promise<void> | void {
    const bind = element.name === 'iq' && element.attrs.type === 'set' ? element.getChild('bind', NS_BIND) : undefined;
    if (bind) return this.bind(element, bind);
    // The legacy session iq (RFC 3921 §3) may come before bind in some clients: harmless.
    if (element.name === 'iq' && element.getChild('session', NS_SESSION)) return this.send(resultFor(element));
    this.fail('not-authorized', 'bind a resource first');
  }

  private async bind(iq: Element, bind: Element): Promise<void> {
    const { router, resourceConflict, limits, domain } = this.services;
    const requested = bind.getChildText('resource');
    let resource: string;
    if (requested === null || requested.trim() === '') {
      resource = generatedResource();
    } else {
      const normalised = normaliseResource(requested);
      if (normalised === undefined) return this.reply(iq, new StanzaError('bad-request', 'invalid resource'));
      resource = normalised;
    }
    const existing = router.find(this.jid.bare, resource);
    if (existing) {
      switch (resourceConflict) {
        case 'refuse':
          return this.reply(iq, new StanzaError('conflict', 'resource in use'));
        case 'override':
          resource = `${resource}-${generatedResource().slice(0, 6)}`;
          break;
        case 'replace':
          break; // the router closes the older session
      }
    }
    const replacing = existing !== undefined && resourceConflict === 'replace';
    if (!replacing && (await router.resourcesOf(this.jid.bare)).length >= limits.maxSessionsPerAccount) {
      // RFC 6120 §7.6.2.1: the account has reached its limit of connected resources.
      return this.reply(iq, new StanzaError('resource-constraint', `at most ${limits.maxSessionsPerAccount} sessions per account`));
    }
    this.resource = resource;
    this.jid = makeJid(this.username, domain, resource);
    this.phase = 'bound';
    this.stopLoginTimer();
    await router.bind(this);
    const result = resultFor(iq);
    result.c('bind', { xmlns: NS_BIND }).c('jid').t(this.jid.full);
    this.send(result);
    this.services.logger.debug({ session: this.info.streamId, jid: this.jid.full }, 'resource bound');
  }

  // ---- stanzas of a bound session ----

  private active(element: Element): Promise<void> | void {
    const name = element.name;
    if (name !== 'message' && name !== 'presence' && name !== 'iq') {
      return this.fail('unsupported-stanza-type', `<${name}/> is not a stanza`);
    }
    if (element.attrs.xmlns !== undefined && element.attrs.xmlns !== NS_CLIENT) {
      return this.fail('invalid-namespace', 'stanzas must be in jabber:client');
    }
    // RFC 6120 §8.1.2.1: the server stamps the sender's full JID.
    const from = element.attrs.from as string | undefined;
    if (from !== undefined) {
      // RFC 7622: compared as addresses (case-folded), not as strings.
      const claimed = parseJid(from);
      if (!claimed || (claimed.full !== this.jid.full && claimed.full !== this.jid.bare)) {
        return this.fail('invalid-from', 'from does not match the bound JID');
      }
    }
    element.attrs.from = this.jid.full;
    element.attrs.xmlns = NS_CLIENT;
    if (!this.rate.take()) {
      // A client over its stanza rate hears about it and the stanza goes nowhere.
      return this.reply(element, new StanzaError('policy-violation', 'too many stanzas; slow down', 'wait'));
    }
    if (name === 'iq' && !validIq(element)) return this.reply(element, new StanzaError('bad-request', 'malformed iq'));

    const toText = element.attrs.to as string | undefined;
    let to: Jid | undefined;
    if (toText !== undefined) {
      to = parseJid(toText);
      if (!to) return this.reply(element, new StanzaError('jid-malformed'));
      if (to.domain !== this.info.domain) {
        return this.reply(element, new StanzaError('remote-server-not-found', 'this server does not federate'));
      }
    }
    switch (name) {
      case 'presence':
        return this.services.presence.fromClient(this, element);
      case 'iq':
        return this.iq(element, to);
      case 'message':
        return this.message(element, to);
    }
  }

  private async message(message: Element, to: Jid | undefined): Promise<void> {
    // RFC 6120 §10.3.1: a message with no 'to' is for the sender's own bare JID.
    const target = to ?? makeJid(this.jid.local, this.jid.domain);
    if (target.local === '') return this.reply(message, new StanzaError('service-unavailable', 'the server does not take messages'));
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
      return this.answer(iq, await (forAccount ? handlers.account : handlers.server).handle(iq, { from: this.jid, target: forAccount ? own : makeJid('', domain) }));
    }
    if (to.local === '') {
      // RFC 6120 §10.4: for the server itself.
      if (type === 'result' || type === 'error') return;
      return this.answer(iq, await handlers.server.handle(iq, { from: this.jid, target: to }));
    }
    if (to.resource === '' && (type === 'get' || type === 'set')) {
      // RFC 6120 §10.5.4: the server answers for the account.
      return this.answer(iq, await handlers.account.handle(iq, { from: this.jid, target: to }));
    }
    await router.route(iq, to);
  }

  private answer(request: Element, answer: IqAnswer): void {
    if (answer instanceof StanzaError) return this.reply(request, answer);
    // Clients match the reply by id and by its sender: the address they wrote to.
    if (request.attrs.to !== undefined) answer.attrs.from = request.attrs.to;
    answer.attrs.to = this.jid.full;
    this.send(answer);
  }

  // ---- replies and endings ----

  private reply(stanza: Element, error: StanzaError): void {
    const reply = errorReply(stanza, error);
    if (!reply) return;
    // The reply comes from the address the client wrote to (or the server), to the client itself.
    reply.attrs.from = (stanza.attrs.to as string | undefined) ?? this.info.domain;
    reply.attrs.to = this.jid.full;
    this.send(reply);
  }

  private fail(condition: StreamErrorCondition, text: string): void {
    if (this.phase === 'closed') return;
    const wasBound = this.phase === 'bound';
    this.phase = 'closed';
    this.mailbox.length = 0;
    this.stopLoginTimer();
    if (wasBound) this.services.router.unbind(this);
    this.output.close(streamError(condition, text));
    if (wasBound && condition !== 'conflict') void this.leave([]);
  }

  private sendFeatures(): void {
    const features = new Element('stream:features');
    if (this.phase === 'unauthenticated') {
      const mechanisms = features.c('mechanisms', { xmlns: NS_SASL });
      for (const mechanism of MECHANISMS) mechanisms.c('mechanism').t(mechanism);
    } else {
      features.c('bind', { xmlns: NS_BIND });
      // RFC 3921 §3 session establishment survives only for old clients: advertised as optional.
      features.c('session', { xmlns: NS_SESSION }).c('optional');
      // RFC 6121 §2.6.1: roster versioning.
      features.c('ver', { xmlns: NS_ROSTER_VER });
    }
    this.send(features);
  }
}

/** RFC 6120 §6.4.2: base64 data, '=' for an empty response; null when not base64. */
function decodeSaslData(text: string): Buffer | undefined | null {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) return null;
  return Buffer.from(trimmed, 'base64');
}

function generatedResource(): string {
  return randomBytes(8).toString('hex');
}

function isCarbon(message: Element): boolean {
  return message.getChild('sent', 'urn:xmpp:carbons:2') !== undefined || message.getChild('received', 'urn:xmpp:carbons:2') !== undefined;
}

/** RFC 6120 §8.2.3: an iq has an id, a type, and (get/set) exactly one child. */
function validIq(iq: Element): boolean {
  const type = iq.attrs.type;
  if (iq.attrs.id === undefined) return false;
  if (type === 'get' || type === 'set') return iq.children.filter((c) => typeof c !== 'string').length === 1;
  return type === 'result' || type === 'error';
}

function resultFor(iq: Element): Element {
  const result = new Element('iq', { xmlns: NS_CLIENT, type: 'result' });
  if (iq.attrs.id !== undefined) result.attrs.id = iq.attrs.id;
  return result;
}
