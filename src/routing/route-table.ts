import type { StreamErrorCondition } from '../base/stream-error';
import type { Settled } from '../base/stream';

/** One resource's entry in the cluster-wide route table (user → online resources). */
export interface RouteEntry {
  readonly resource: string;
  readonly node: string;
  readonly available: boolean;
  readonly priority: number;
  readonly interested: boolean;
  readonly carbons: boolean;
  /** The last available presence, serialised. */
  readonly presence: string | undefined;
}

/** Where each user's resources are bound, shared by all nodes (Redis in cluster mode). */
export interface RouteTable {
  resources(bare: string): Promise<RouteEntry[]>;
  put(bare: string, entry: RouteEntry): Promise<void>;
  /** Removes the entry only if it still belongs to `node` (a newer binding elsewhere stays). */
  remove(bare: string, resource: string, node: string): Promise<void>;
}

/**
 * What one node asks another to do for a resource bound there. A kind added here is read only by nodes
 * of this release on: it goes into BUS_MESSAGE_KINDS (bus-kinds.ts), and a sender checks the receiving
 * node announces it (see busKinds) during a rolling upgrade.
 */
export type BusMessage =
  | { readonly kind: 'deliver'; readonly to: string; readonly stanza: string; readonly hops: number }
  /**
   * One stanza for several resources of the receiving node (a room's message to its occupants there),
   * carried once: each of `to`, in order, gets a copy addressed to it, as if sent a 'deliver' each.
   */
  | { readonly kind: 'fanout'; readonly to: readonly string[]; readonly stanza: string; readonly hops: number }
  | { readonly kind: 'replace'; readonly bare: string; readonly resource: string }
  /** Ends a user's session there with a stream error (account removed, kicked by the API). */
  | { readonly kind: 'end'; readonly bare: string; readonly resource: string; readonly condition: StreamErrorCondition; readonly text: string };

/** Carries messages to the node that owns a session. */
export interface Bus {
  send(node: string, message: BusMessage): Promise<void>;
  /**
   * Sends as `send` does; `taken` resolves as soon as the message no longer depends on this call
   * (on its stream, or waiting for Redis in the outbox), or has failed, and `done` as `send`'s promise.
   */
  handOver?(node: string, message: BusMessage): { readonly taken: Promise<void>; readonly done: Promise<void> };
}

/** One message in the journal: `written` once it is in Redis or could not be; `settled` removes it (see Settled). */
export interface JournalEntry {
  /** Resolves (never rejects) once the entry is written, or was not (Redis unreachable: counted, not retried). */
  readonly written: Promise<void>;
  /** Every copy handed to this node's sessions is settled: the entry goes (also when called before `written`). */
  readonly settled: Settled;
}

/**
 * Cluster mode: where a node keeps the messages it hands to its own sessions until their clients
 * confirm them. A message between two sessions of one node lives nowhere else; if the node dies in
 * that moment, the reaper routes again what its journal still holds, as it does its bus stream.
 */
export interface MessageJournal {
  keep(message: BusMessage): JournalEntry;
}

/** The cluster as the router sees it; absent when the node runs alone. */
export interface ClusterLink {
  readonly node: string;
  readonly routes: RouteTable;
  readonly bus: Bus;
  /** Whether a node is alive (its heartbeat has not lapsed). */
  isAlive(node: string): Promise<boolean>;
  /**
   * The kinds of bus message a node reads, as it announces them with its heartbeat (routing/bus-kinds.ts:
   * no announcement is an older release, without 'fanout'). Read with the liveness, not per message.
   */
  busKinds(node: string): Promise<ReadonlySet<string>>;
  /** Messages handed to this node's own sessions, kept until their clients confirm them (absent: BUS_JOURNAL=false). */
  readonly journal?: MessageJournal;
}
