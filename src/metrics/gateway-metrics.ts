import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BoshObserver, TerminalCondition } from '../bosh';
import type { ForwardObserver } from '../cluster/forwarder';
import type { JournalObserver } from '../cluster/redis-journal';
import type { RedisObserver } from '../redis/redis-client';
import type { AuthThrottleObserver, DelayScope } from '../limits/auth-throttle';
import type { XmppObserver } from '../xmpp/observer';
import type { EventHubObserver } from '../events/event-hub';

/** Live figures read at scrape time rather than tracked on every change. */
export interface GaugeSources {
  sessions(): number;
  boundSessions(): number;
  heldRequests(): number;
  /** Messages waiting in offline storage, when the store can tell cheaply (memory store). */
  offlineMessages(): number | undefined;
}

const STANZA_TYPES = new Set(['message', 'presence', 'iq']);

/** Labels stay bounded: stanza names outside the three kinds count as 'other'. */
function stanzaType(name: string): string {
  return STANZA_TYPES.has(name) ? name : 'other';
}

/**
 * The node's Prometheus metrics. Labels never carry a sid or a JID: only bounded sets
 * (outcome, condition, stanza type, reason).
 */
export class GatewayMetrics implements BoshObserver, XmppObserver, ForwardObserver, RedisObserver, JournalObserver, AuthThrottleObserver, EventHubObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'outcome' | 'condition'>;
  private readonly requestDuration: Histogram<'outcome'>;
  private readonly deliveryLatency: Histogram;
  private readonly sessionsOpened: Counter;
  private readonly sessionsClosed: Counter<'reason'>;
  private readonly stanzas: Counter<'direction' | 'type'>;
  private readonly auth: Counter<'mechanism' | 'outcome'>;
  private readonly forwards: Histogram<'outcome'>;
  private readonly redisErrors: Counter;
  private readonly redisReconnects: Counter;
  private readonly journalSkippedCount: Counter;
  private readonly authThrottled: Counter<'scope'>;
  private readonly authDelay: Histogram;
  private readonly authTurnedAway: Counter<'scope'>;
  private readonly subscriberFailures: Counter<'event'>;

  constructor(sources: GaugeSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'bosh_sessions',
      help: 'BOSH sessions open on this node',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
    new Gauge({
      name: 'xmpp_sessions',
      help: 'XMPP sessions on this node by state: bound (resource bound) or unbound (before bind)',
      labelNames: ['state'],
      registers,
      collect() {
        const bound = sources.boundSessions();
        this.set({ state: 'bound' }, bound);
        this.set({ state: 'unbound' }, Math.max(0, sources.sessions() - bound));
      },
    });
    new Gauge({
      name: 'bosh_held_requests',
      help: 'HTTP requests currently held open by BOSH sessions',
      registers,
      collect() {
        this.set(sources.heldRequests());
      },
    });
    this.requests = new Counter({
      name: 'bosh_requests_total',
      help: 'BOSH requests answered, by outcome (ok, recoverable, terminal) and terminal condition',
      labelNames: ['outcome', 'condition'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'bosh_request_duration_seconds',
      help: 'Time from a BOSH request arriving to its response (includes holding)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120],
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'xmpp_delivery_latency_seconds',
      help: 'Time from a stanza being queued for a session to it leaving in a response',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 60],
      registers,
    });
    this.sessionsOpened = new Counter({ name: 'bosh_sessions_opened_total', help: 'BOSH sessions created', registers });
    this.sessionsClosed = new Counter({
      name: 'bosh_sessions_closed_total',
      help: 'BOSH sessions ended, by reason (terminate, inactivity, a terminal condition, shutdown)',
      labelNames: ['reason'],
      registers,
    });
    this.stanzas = new Counter({
      name: 'xmpp_stanzas_total',
      help: 'Stanzas received from clients (in) and sent to clients (out), by type',
      labelNames: ['direction', 'type'],
      registers,
    });
    new Gauge({
      name: 'xmpp_offline_messages',
      help: 'Messages waiting in offline storage (memory store only; Redis keeps them per user)',
      registers,
      collect() {
        const count = sources.offlineMessages();
        if (count !== undefined) this.set(count);
      },
    });
    this.forwards = new Histogram({
      name: 'cluster_forwards_seconds',
      help: 'BOSH requests forwarded to the node holding their session, by outcome, and how long the owner took to answer',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 60],
      registers,
    });
    this.redisErrors = new Counter({ name: 'redis_errors_total', help: 'Redis connection and command errors', registers });
    this.redisReconnects = new Counter({ name: 'redis_reconnects_total', help: 'Redis connections re-established', registers });
    this.journalSkippedCount = new Counter({
      name: 'bus_journal_skipped_total',
      help: 'Messages handed to a session of this node without a journal entry (Redis could not take it): not protected against a crash of this node',
      registers,
    });
    this.auth = new Counter({
      name: 'xmpp_auth_total',
      help: 'SASL authentications by mechanism and outcome',
      labelNames: ['mechanism', 'outcome'],
      registers,
    });
    this.authThrottled = new Counter({
      name: 'xmpp_auth_throttled_total',
      help: 'Failed logins answered late by the brute-force throttle, by the counter that set the delay (pair: account from one address group; account: from every address)',
      labelNames: ['scope'],
      registers,
    });
    this.authDelay = new Histogram({
      name: 'xmpp_auth_failure_delay_seconds',
      help: 'How long the answer to a failed login was held back',
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 30, 60],
      registers,
    });
    this.authTurnedAway = new Counter({
      name: 'xmpp_auth_turned_away_total',
      help: 'Login attempts answered temporary-auth-failure without a password check: too many in progress for one account from one address group (pair) or from one address group (address)',
      labelNames: ['scope'],
      registers,
    });
    this.subscriberFailures = new Counter({
      name: 'events_subscriber_failures_total',
      help: 'Event hub subscribers that threw or rejected, by event (the node and the other subscribers went on)',
      labelNames: ['event'],
      registers,
    });
  }

  // ---- BoshObserver ----

  responded(status: number, condition: TerminalCondition | undefined, recoverable: boolean, seconds: number): void {
    const outcome = condition !== undefined || status !== 200 ? 'terminal' : recoverable ? 'recoverable' : 'ok';
    this.requests.inc({ outcome, condition: condition ?? '' });
    this.requestDuration.observe({ outcome }, seconds);
  }

  delivered(count: number, seconds: number): void {
    for (let i = 0; i < count; i++) this.deliveryLatency.observe(seconds);
  }

  sessionOpened(): void {
    this.sessionsOpened.inc();
  }

  sessionClosed(reason: string): void {
    this.sessionsClosed.inc({ reason });
  }

  // ---- XmppObserver ----

  stanzaIn(name: string): void {
    this.stanzas.inc({ direction: 'in', type: stanzaType(name) });
  }

  stanzaOut(name: string): void {
    this.stanzas.inc({ direction: 'out', type: stanzaType(name) });
  }

  authenticated(mechanism: string, ok: boolean): void {
    this.auth.inc({ mechanism, outcome: ok ? 'success' : 'failure' });
  }

  // ---- AuthThrottleObserver ----

  failureDelayed(scope: DelayScope, seconds: number): void {
    this.authThrottled.inc({ scope });
    this.authDelay.observe(seconds);
  }

  attemptTurnedAway(scope: 'pair' | 'address'): void {
    this.authTurnedAway.inc({ scope });
  }

  // ---- EventHubObserver ----

  subscriberFailed(event: string): void {
    this.subscriberFailures.inc({ event });
  }

  // ---- ForwardObserver, RedisObserver ----

  forwarded(outcome: 'ok' | 'unknown' | 'owner-down' | 'failed', seconds: number): void {
    this.forwards.observe({ outcome }, seconds);
  }

  commandFailed(): void {
    this.redisErrors.inc();
  }

  reconnected(): void {
    this.redisReconnects.inc();
  }

  // ---- JournalObserver ----

  journalSkipped(): void {
    this.journalSkippedCount.inc();
  }
}
