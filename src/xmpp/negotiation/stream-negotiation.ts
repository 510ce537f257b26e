import { Element } from 'ltx';
import { makeJid, type Jid } from '../../base/jid';
import { NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION } from '../../base/namespaces';
import { NS_ROSTER_VER } from '../roster/roster-service';
import { failure, type PasswordGate, type SaslExchange, type SaslFailure, type SaslStep } from '../sasl/mechanism';
import { PlainExchange } from '../sasl/plain';
import { ScramExchange } from '../sasl/scram';
import type { XmppServices } from '../services';
import { StanzaError } from '../../base/stanza-error';
import type { StreamInfo } from '../../base/stream';
import type { StreamErrorCondition } from '../../base/stream-error';
import { chooseResource } from './resource-choice';
import { decodeSaslData } from './sasl-data';

/** RFC 6120 stream phases up to binding: before SASL, after SASL success (awaiting restart), restarted, bound; or closed. */
type Phase = 'unauthenticated' | 'authenticated' | 'restarted' | 'bound' | 'closed';

const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/** What negotiation asks of the session it runs for. */
export interface NegotiationHost {
  send(element: Element): void;
  /** Refuses one stanza with an error; the stream goes on. */
  reply(stanza: Element, error: StanzaError): void;
  /** Ends the stream with a stream error (RFC 6120 §4.9). */
  close(condition: StreamErrorCondition, text: string): void;
  /** The resource is chosen (`jid` is now the full JID): the session becomes bound and joins the router. */
  bind(): Promise<void>;
}

/**
 * RFC 6120 §4.3 to §7: a stream from its opening to a bound resource. Features per phase, SASL with
 * its failure count, the restart after success, and resource binding.
 */
export class StreamNegotiation {
  private phase: Phase = 'unauthenticated';
  private sasl: SaslExchange | undefined;
  private mechanism: Mechanism = 'PLAIN';
  private authFailures = 0;
  private identity: Jid;

  constructor(
    private readonly services: XmppServices,
    private readonly info: StreamInfo,
    private readonly host: NegotiationHost,
  ) {
    this.identity = makeJid('', info.domain);
  }

  /** The stream's address so far: the domain, then the account's bare JID, then the bound full JID. */
  get jid(): Jid {
    return this.identity;
  }

  /** Whether SASL has not yet succeeded. */
  get authenticating(): boolean {
    return this.phase === 'unauthenticated';
  }

  /** The stream closed: exchanges still running answer nothing. */
  stop(): void {
    this.phase = 'closed';
  }

  /** The features of a new stream (RFC 6120 §4.3.2). */
  sendFeatures(): void {
    this.host.send(streamFeatures(this.phase !== 'unauthenticated'));
  }

  restart(): void {
    // XEP-0206 §5 / RFC 6120 §6.4.6: after SASL success, a restart opens the post-auth stream.
    if (this.phase === 'authenticated') this.phase = 'restarted';
    this.sendFeatures();
  }

  /** One element of a stream that is not yet bound. */
  receive(element: Element): Promise<void> | void {
    switch (this.phase) {
      case 'unauthenticated':
        return this.authenticate(element);
      case 'authenticated':
        // RFC 6120 §6.4.6: nothing but a stream restart may follow SASL success.
        return this.host.close('not-authorized', 'restart the stream after authentication');
      case 'restarted':
        return this.beforeBind(element);
      case 'bound':
      case 'closed':
        return undefined;
    }
  }

  /** The stores could not be reached: during SASL the client hears temporary-auth-failure, later the stream ends. */
  storesUnavailable(): void {
    if (this.phase === 'unauthenticated') {
      this.saslFailure(failure('temporary-auth-failure', 'the account store is unavailable; try again'));
    } else {
      this.host.close('internal-server-error', 'the stores are unavailable; try again');
    }
  }

  // ---- SASL (RFC 6120 §6) ----

  private authenticate(element: Element): Promise<void> | void {
    if (element.attrs.xmlns !== NS_SASL) return this.host.close('not-authorized', 'authenticate first');
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
        return this.host.close('not-authorized', 'unexpected SASL element');
    }
  }

  private exchange(mechanism: Mechanism): SaslExchange {
    const { accounts, scramIterations, authThrottle, domain } = this.services;
    // Brute-force protection: failures slowed down per account and address group, never a lockout.
    const gate: PasswordGate = (username, check) => authThrottle.attempt(username, this.info.remoteAddress, check);
    switch (mechanism) {
      case 'PLAIN':
        return new PlainExchange(accounts, domain, gate, this.services.loginTokens);
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
        this.host.send(new Element('challenge', { xmlns: NS_SASL }).t(step.data.length ? step.data.toString('base64') : '='));
        return;
      case 'success': {
        this.services.observer.authenticated(this.mechanism, true);
        this.sasl = undefined;
        this.identity = makeJid(step.username, this.info.domain);
        this.phase = 'authenticated';
        const success = new Element('success', { xmlns: NS_SASL });
        if (step.data) success.t(step.data.toString('base64'));
        this.host.send(success);
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
    this.host.send(element);
    if (step.condition !== 'aborted' && ++this.authFailures >= this.services.limits.maxAuthFailures) {
      this.host.close('policy-violation', 'too many failed authentication attempts');
    }
  }

  // ---- resource binding (RFC 6120 §7) ----

  private beforeBind(element: Element): Promise<void> | void {
    const bind = element.name === 'iq' && element.attrs.type === 'set' ? element.getChild('bind', NS_BIND) : undefined;
    if (bind) return this.bind(element, bind);
    // The legacy session iq (RFC 3921 §3) may come before bind in some clients: harmless.
    if (element.name === 'iq' && element.getChild('session', NS_SESSION)) return this.host.send(resultFor(element));
    this.host.close('not-authorized', 'bind a resource first');
  }

  private async bind(iq: Element, bind: Element): Promise<void> {
    const { router, resourceConflict, limits, domain } = this.services;
    const account = this.identity;
    const choice = chooseResource(bind.getChildText('resource'), (resource) => router.find(account.bare, resource) !== undefined, resourceConflict);
    if (choice instanceof StanzaError) return this.host.reply(iq, choice);
    if (!choice.replacing && (await router.resourcesOf(account.bare)).length >= limits.maxSessionsPerAccount) {
      // RFC 6120 §7.6.2.1: the account has reached its limit of connected resources.
      return this.host.reply(iq, new StanzaError('resource-constraint', `at most ${limits.maxSessionsPerAccount} sessions per account`));
    }
    // The stream may have ended while the resources were counted: nothing is bound for it then.
    if (this.phase !== 'restarted') return;
    this.identity = makeJid(account.local, domain, choice.resource);
    this.phase = 'bound';
    await this.host.bind();
    const result = resultFor(iq);
    result.c('bind', { xmlns: NS_BIND }).c('jid').t(this.identity.full);
    this.host.send(result);
    this.services.logger.debug({ session: this.info.streamId, jid: this.identity.full }, 'resource bound');
  }
}

/**
 * The features of a new stream (RFC 6120 §4.3.2): SASL mechanisms before authentication, binding
 * after it (also what a restart of an already bound stream is told).
 */
export function streamFeatures(authenticated: boolean): Element {
  const features = new Element('stream:features');
  if (!authenticated) {
    const mechanisms = features.c('mechanisms', { xmlns: NS_SASL });
    for (const mechanism of MECHANISMS) mechanisms.c('mechanism').t(mechanism);
  } else {
    features.c('bind', { xmlns: NS_BIND });
    // RFC 3921 §3 session establishment survives only for old clients: advertised as optional.
    features.c('session', { xmlns: NS_SESSION }).c('optional');
    // RFC 6121 §2.6.1: roster versioning.
    features.c('ver', { xmlns: NS_ROSTER_VER });
  }
  return features;
}

function resultFor(iq: Element): Element {
  const result = new Element('iq', { xmlns: NS_CLIENT, type: 'result' });
  if (iq.attrs.id !== undefined) result.attrs.id = iq.attrs.id;
  return result;
}
