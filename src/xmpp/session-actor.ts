import { randomBytes } from 'node:crypto';
import { Element } from 'ltx';
import type { Logger } from '../observability/logger';
import type { LocalResource, ResourceConflictPolicy, Router } from '../routing/router';
import type { AccountStore } from '../store/account-store';
import { makeJid, normaliseResource, parseJid, type Jid } from './jid';
import { NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION } from './namespaces';
import { failure, type SaslExchange, type SaslFailure, type SaslStep } from './sasl/mechanism';
import { PlainExchange } from './sasl/plain';
import { ScramExchange } from './sasl/scram';
import { errorReply, StanzaError } from './stanza-error';
import type { StreamEndpoint, StreamEndReason, StreamInfo, StreamOutput } from './stream';
import { streamError, type StreamErrorCondition } from './stream-error';
import type { XmppObserver } from './observer';
import type { ServerIqHandlers } from './server-iq';

export interface ActorOptions {
  readonly accounts: AccountStore;
  readonly router: Router;
  readonly serverIq: ServerIqHandlers;
  readonly scramIterations: number;
  readonly resourceConflict: ResourceConflictPolicy;
  /** Failed SASL attempts allowed on one stream before it is closed. */
  readonly maxAuthFailures: number;
  readonly logger: Logger;
  readonly observer: XmppObserver;
}

/** RFC 6120 stream phases: before SASL, after SASL success (awaiting restart), bound, gone. */
type Phase = 'unauthenticated' | 'authenticated' | 'restarted' | 'bound' | 'closed';

const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/**
 * One client's XMPP session, the part ejabberd's c2s plays: SASL, restart, bind, then stanzas to and
 * from the router. A mailbox: one inbound element at a time, in order, even when a step is async.
 */
export class SessionActor implements StreamEndpoint, LocalResource {
  private phase: Phase = 'unauthenticated';
  private sasl: SaslExchange | undefined;
  private mechanism: Mechanism = 'PLAIN';
  private authFailures = 0;
  private username = '';
  jid: Jid;
  resource = '';
  available = false;
  priority = 0;
  private busy = false;
  private readonly mailbox: Element[] = [];

  constructor(
    private readonly output: StreamOutput,
    private readonly info: StreamInfo,
    private readonly options: ActorOptions,
  ) {
    this.jid = makeJid('', info.domain);
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
      this.mailbox.push(element);
      return;
    }
    this.process(element);
  }

  refuse(element: Element, reason: 'too-big'): void {
    if (this.phase !== 'bound') {
      this.fail('policy-violation', `stanza larger than the limit (${reason})`);
      return;
    }
    this.reply(element, new StanzaError('policy-violation', 'stanza larger than the size limit'));
  }

  end(reason: StreamEndReason, undelivered: readonly Element[]): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.options.router.unbind(this);
    this.mailbox.length = 0;
    // XEP-0206 §7: what never reached the client is answered, not lost (messages and iqs bounce).
    for (const stanza of undelivered) {
      if (stanza.name === 'message' || (stanza.name === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set'))) {
        this.options.router.bounce(stanza, new StanzaError('recipient-unavailable', 'the session ended before delivery'));
      }
    }
    this.options.logger.debug({ sid: this.info.streamId, reason, jid: this.jid.full }, 'session ended');
  }

  // ---- LocalResource ----

  deliver(stanza: Element): void {
    if (this.phase === 'closed') return;
    this.send(stanza);
  }

  private send(element: Element): void {
    this.options.observer.stanzaOut(element.name);
    this.output.send(element);
  }

  replaced(): void {
    // RFC 6120 §7.7.2.2: the older session of a conflicting resource is closed with <conflict/>.
    this.fail('conflict', 'replaced by a new session with the same resource');
  }

  // ---- the mailbox ----

  private process(element: Element): void {
    this.options.observer.stanzaIn(element.name);
    let result: Promise<void> | void;
    try {
      result = this.dispatch(element);
    } catch (err) {
      this.crash(err);
      return;
    }
    if (result) {
      this.busy = true;
      result.catch((err: unknown) => this.crash(err)).finally(() => this.drainMailbox());
    }
  }

  private drainMailbox(): void {
    this.busy = false;
    while (!this.busy && this.mailbox.length > 0 && this.phase !== 'closed') {
      this.process(this.mailbox.shift() as Element);
    }
  }

  private crash(err: unknown): void {
    this.options.logger.error({ err, jid: this.jid.full }, 'session actor failed');
    this.fail('undefined-condition', 'internal error');
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
        const text = element.getText();
        const initial = decodeSaslData(text);
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
    const { accounts, scramIterations } = this.options;
    switch (mechanism) {
      case 'PLAIN':
        return new PlainExchange(accounts, this.info.domain);
      case 'SCRAM-SHA-1':
        return new ScramExchange('SHA-1', accounts, this.info.domain, scramIterations);
      case 'SCRAM-SHA-256':
        return new ScramExchange('SHA-256', accounts, this.info.domain, scramIterations);
    }
  }

  private saslStep(step: SaslStep): void {
    if (this.phase !== 'unauthenticated') return;
    switch (step.kind) {
      case 'challenge':
        this.send(new Element('challenge', { xmlns: NS_SASL }).t(step.data.length ? step.data.toString('base64') : '='));
        return;
      case 'success': {
        this.options.observer.authenticated(this.mechanism, true);
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
    if (step.condition !== 'aborted' && step.condition !== 'invalid-mechanism') this.options.observer.authenticated(this.mechanism, false);
    this.sasl = undefined;
    const element = new Element('failure', { xmlns: NS_SASL });
    element.c(step.condition);
    if (step.text) element.c('text').t(step.text);
    this.send(element);
    if (step.condition !== 'aborted' && ++this.authFailures >= this.options.maxAuthFailures) {
      this.fail('policy-violation', 'too many failed authentication attempts');
    }
  }

  // ---- resource binding (RFC 6120 §7) ----

  private beforeBind(element: Element): void {
    const bind = element.name === 'iq' && element.attrs.type === 'set' ? element.getChild('bind', NS_BIND) : undefined;
    if (bind) return this.bind(element, bind);
    // The legacy session iq (RFC 3921 §3) may come before bind in some clients: harmless.
    if (element.name === 'iq' && element.getChild('session', NS_SESSION)) return this.send(resultFor(element));
    this.fail('not-authorized', 'bind a resource first');
  }

  private bind(iq: Element, bind: Element): void {
    const requested = bind.getChildText('resource');
    let resource: string;
    if (requested === null || requested.trim() === '') {
      resource = generatedResource();
    } else {
      const normalised = normaliseResource(requested);
      if (normalised === undefined) return this.reply(iq, new StanzaError('bad-request', 'invalid resource'));
      resource = normalised;
    }
    const existing = this.options.router.find(this.jid.bare, resource);
    if (existing) {
      switch (this.options.resourceConflict) {
        case 'refuse':
          return this.reply(iq, new StanzaError('conflict', 'resource in use'));
        case 'override':
          resource = `${resource}-${generatedResource().slice(0, 6)}`;
          break;
        case 'replace':
          break; // the router closes the older session
      }
    }
    this.resource = resource;
    this.jid = makeJid(this.username, this.info.domain, resource);
    this.phase = 'bound';
    this.options.router.bind(this);
    const result = resultFor(iq);
    result.c('bind', { xmlns: NS_BIND }).c('jid').t(this.jid.full);
    this.send(result);
    this.options.logger.debug({ jid: this.jid.full }, 'resource bound');
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
    if (from !== undefined && from !== this.jid.full && from !== this.jid.bare) {
      return this.fail('invalid-from', 'from does not match the bound JID');
    }
    element.attrs.from = this.jid.full;
    element.attrs.xmlns = NS_CLIENT;
    if (name === 'iq' && !validIq(element)) return this.reply(element, new StanzaError('bad-request', 'malformed iq'));

    const toText = element.attrs.to as string | undefined;
    if (toText === undefined) return this.toServerOrSelf(element);
    const to = parseJid(toText);
    if (!to) return this.reply(element, new StanzaError('jid-malformed'));
    if (to.domain !== this.info.domain) {
      return this.reply(element, new StanzaError('remote-server-not-found', 'this server does not federate'));
    }
    if (to.local === '') return this.toServerOrSelf(element);
    if (name === 'presence' && to.bare === this.jid.bare && to.resource === '') return this.ownPresence(element);
    return this.options.router.route(element, to);
  }

  /** Stanzas with no `to`, or to the domain itself: handled by the server (RFC 6120 §10.3). */
  private toServerOrSelf(element: Element): void {
    if (element.name === 'presence') return this.ownPresence(element);
    if (element.name === 'iq') {
      const type = element.attrs.type;
      if (type === 'result' || type === 'error') return;
      const answer = this.options.serverIq.handle(element, { jid: this.jid, domain: this.info.domain });
      if (answer instanceof StanzaError) return this.reply(element, answer);
      // Clients match the reply by id and by its sender: the address they wrote to.
      if (element.attrs.to !== undefined) answer.attrs.from = element.attrs.to;
      answer.attrs.to = this.jid.full;
      this.send(answer);
      return;
    }
    // A message to the server itself: nobody reads it (RFC 6120 §10.3.1).
    this.reply(element, new StanzaError('service-unavailable'));
  }

  /** Broadcast presence: availability and priority (RFC 6121 §4.2, §4.7.2.3). */
  private ownPresence(presence: Element): void {
    const type = presence.attrs.type as string | undefined;
    if (type === undefined) {
      const priority = Number(presence.getChildText('priority') ?? 0);
      this.priority = Number.isInteger(priority) && priority >= -128 && priority <= 127 ? priority : 0;
      this.available = true;
    } else if (type === 'unavailable') {
      this.available = false;
    }
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
    this.phase = 'closed';
    this.options.router.unbind(this);
    this.mailbox.length = 0;
    this.output.close(streamError(condition, text));
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
