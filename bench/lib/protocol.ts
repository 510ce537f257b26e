// Messages between the bench orchestrator (bench/run.ts) and its load-generator workers (bench/worker.ts).
import type { FifthExchange } from './bosh';

export interface InitCmd {
  type: 'init';
  workerId: number;
  /** the worker exits by itself after this many ms, whatever happens */
  lifetimeMs: number;
}

/** Point the worker at a (new) server: drops all sessions and opens a fresh connection pool. */
export interface TargetCmd {
  type: 'target';
  origin: string;
  path: string;
  domain: string;
}

export interface LoginCmd {
  type: 'login';
  group: string;
  /** account indexes [from, from+count) — user `u<i>`, password from passwordFor(i) */
  from: number;
  count: number;
  concurrency: number;
  resource: string;
  fifth: FifthExchange;
  /** keep one request held at the server for each session after login */
  keepPolling: boolean;
  /** stop starting new logins after this many ms */
  maxMs: number;
}

export interface TerminateCmd {
  type: 'terminate';
  group: string;
  concurrency: number;
}

export interface StatusCmd {
  type: 'status';
  group: string;
}

export interface ChatSetupCmd {
  type: 'chatSetup';
  senders: { from: number; count: number };
  receivers: { from: number; count: number };
  concurrency: number;
  fifth: FifthExchange;
}

export interface ChatStepCmd {
  type: 'chatStep';
  rate: number;
  durationMs: number;
  drainMs: number;
  bodyBytes: number;
}

export interface ResetCmd {
  type: 'reset';
}

/**
 * Cluster only: log sessions in directly at each node (bypassing nginx), so that the node holding each
 * session is known; they do not poll (no request stays held).
 */
export interface HopSetupCmd {
  type: 'hopSetup';
  /** origins of the nodes, in node order */
  nodes: string[];
  /** accounts [from, from + perNode × nodes.length) */
  from: number;
  perNode: number;
  concurrency: number;
  fifth: FifthExchange;
}

/**
 * Cluster only: XEP-0199 pings from the hop sessions at a steady rate, in turn straight to the session's
 * node, straight to another node (which must forward it), and through nginx (whichever node it picks,
 * named by its X-Bosh-Upstream header). One ping outstanding per session.
 */
export interface HopStepCmd {
  type: 'hopStep';
  rate: number;
  durationMs: number;
  drainMs: number;
}

export type WorkerCmd = InitCmd | TargetCmd | LoginCmd | TerminateCmd | StatusCmd | ChatSetupCmd | ChatStepCmd | ResetCmd | HopSetupCmd | HopStepCmd;

export interface Request {
  id: number;
  cmd: WorkerCmd;
}

export interface Reply {
  id: number;
  ok: boolean;
  data?: unknown;
  error?: string;
}

export interface LoginResult {
  ok: number;
  fail: number;
  errors: Record<string, number>;
  sample: string;
  /** CLOCK_MONOTONIC ms (comparable across processes) */
  t0: number;
  t1: number;
  /** login duration histogram (µs), hdr compressed base64 */
  hist: string;
  requests: number;
}

export interface StatusResult {
  sessions: number;
  alive: number;
  outstanding0: number;
  outstanding1: number;
  outstanding2: number;
  quickEmpty: number;
  dead: Record<string, number>;
  transportInFlight: number;
  transportErrors: number;
}

export interface ChatSetupResult {
  senders: LoginResult;
  receivers: LoginResult;
}

export interface ChatStepResult {
  scheduled: number;
  sent: number;
  received: number;
  lost: number;
  unsent: number;
  duplicates: number;
  unknown: number;
  /** messages from an earlier step that arrived after that step's drain (already counted lost there) */
  late: number;
  /** error stanzas the senders got back (e.g. refused by a rate limit) */
  bounced: number;
  /** latency from the POST leaving the generator (µs), hdr compressed base64 */
  histSend: string;
  /** latency from the scheduled (open-loop) send time (µs) */
  histSched: string;
  /** CLOCK_MONOTONIC ms */
  t0: number;
  t1: number;
  deadSenders: number;
  deadReceivers: number;
  maxQueued: number;
  /** event-loop delay of this worker during the step (ms) */
  eldP99: number;
  eldMax: number;
  /** HTTP requests this worker made during the step (sending and draining) */
  requests: number;
}

export interface HopSetupResult {
  login: LoginResult;
  /** sessions per node index */
  perNode: number[];
}

/** Ping round trips (µs histograms, hdr compressed base64) by route. */
export interface HopStepResult {
  /** straight to the node holding the session */
  direct: string;
  /** straight to another node, which forwards it to the holder */
  forwarded: string;
  /** through nginx, which happened to pick the holder */
  nginxDirect: string;
  /** through nginx, which picked another node (forwarded) */
  nginxForwarded: string;
  sent: number;
  answered: number;
  /** pings not sent because every session still had one outstanding */
  skipped: number;
  errors: Record<string, number>;
  sample: string;
  eldP99: number;
}

export function passwordFor(i: number): string {
  return `pw-${i}-bench`;
}

export function userFor(i: number): string {
  return `u${i}`;
}

export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
