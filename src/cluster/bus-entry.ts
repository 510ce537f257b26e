import type { Logger } from '../observability/logger';
import { isKnownBusMessage } from '../routing/bus-kinds';
import type { BusMessage } from '../routing/route-table';

/** What one entry of a bus stream holds: a message this release reads, one of a kind it does not, or nothing usable. */
export type BusEntry = { readonly message: BusMessage } | { readonly unknownKind: string } | undefined;

// Kinds remembered for logging once each; only nodes write the bus, so a handful at most.
const REMEMBERED_KINDS = 100;

/**
 * Reads bus entries, and says once per kind (per process) that a kind this release does not read came:
 * a newer release wrote it (a rolling upgrade, a sender that took this node for a newer one). Such an
 * entry is not handled and not removed: it waits in its stream for a release that reads it (this node
 * after its upgrade reads its stream from the start; the reaper drains a stream a node left behind).
 */
export class BusEntryReader {
  private readonly unknown = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly node: string,
  ) {}

  read(json: string | undefined, stream: string): BusEntry {
    if (json === undefined) return undefined;
    let parsed: { readonly kind?: unknown };
    try {
      parsed = JSON.parse(json) as { readonly kind?: unknown };
    } catch (err) {
      this.logger.warn({ err, stream }, 'a bus entry that is not JSON; removed');
      return undefined;
    }
    if (isKnownBusMessage(parsed)) return { message: parsed };
    const kind = typeof parsed.kind === 'string' ? parsed.kind : String(JSON.stringify(parsed.kind));
    if (!this.unknown.has(kind) && this.unknown.size < REMEMBERED_KINDS) {
      this.unknown.add(kind);
      this.logger.warn(
        { kind, stream, node: this.node },
        'a bus message of a kind this release does not read: left in its stream for a node that reads it (docs/deployment.md, Rolling upgrades)',
      );
    }
    return { unknownKind: kind };
  }
}
