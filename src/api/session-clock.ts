import type { GatewayEventHub } from '../events';

/**
 * When each session of this node was bound (from the sessionStarted and sessionEnded events), for
 * GET /users/{username}. A session on another node of a cluster is listed without it.
 */
export class SessionClock {
  private readonly bound = new Map<string, { readonly streamId: string; readonly at: Date }>();

  constructor(events: GatewayEventHub) {
    events.on('sessionStarted', (event) => {
      this.bound.set(event.jid, { streamId: event.streamId, at: event.at });
    });
    events.on('sessionEnded', (event) => {
      // A replaced session's end must not erase its successor's start (RFC 6120 §7.7.2.2).
      if (this.bound.get(event.jid)?.streamId === event.streamId) this.bound.delete(event.jid);
    });
  }

  since(fullJid: string): Date | undefined {
    return this.bound.get(fullJid)?.at;
  }
}
