// A room of the MUC service (XEP-0045) under a steady message rate: every occupant its own BOSH session in this
// process, room messages from occupants in turn, and the time from a message leaving its sender to its arrival
// at each occupant (every delivery counted). Used by the bench's room phase and by bench/room-fanout.ts.
import * as hdr from 'hdr-histogram-js';
import { Session, Transport } from './bosh';
import { passwordFor, userFor } from './protocol';

export interface RoomOptions {
  occupants: number;
  /** room messages per second, from the occupants in turn */
  rate: number;
  seconds: number;
  /** the first account used (occupant i is account first + i) */
  firstAccount: number;
  /** how long to wait for the last deliveries after the last message */
  drainMs: number;
  /** told when the measured messages start going out and when the last has gone (CPU sampling) */
  onWindow?: (edge: 'start' | 'end') => void;
}

export interface RoomResult {
  occupants: number;
  rate: number;
  seconds: number;
  /** messages sent, deliveries expected (messages × occupants) and arrived */
  sent: number;
  expected: number;
  delivered: number;
  /** logging in and entering the room, before the measured window */
  setupSeconds: number;
  /** send-to-arrival over every delivery, ms */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** sessions that ended during the run (should be none) */
  deadSessions: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runRoom(origin: string, path: string, domain: string, o: RoomOptions, log: (s: string) => void): Promise<RoomResult> {
  const room = `bench@conference.${domain}`;
  const transport = new Transport(origin, path);
  const histogram = hdr.build({ numberOfSignificantValueDigits: 3 });
  const sentAt = new Map<number, number>();
  let delivered = 0;
  const joined = new Set<number>();
  let unlocked = false;
  const sessions: Session[] = [];
  const t0 = performance.now();
  try {
    // Log in a few at a time (each first login costs the server a key derivation).
    for (let i = 0; i < o.occupants; i += 20) {
      const batch = Array.from({ length: Math.min(20, o.occupants - i) }, (_, k) => new Session(transport, userFor(o.firstAccount + i + k), domain));
      await Promise.all(batch.map((s, k) => s.login(passwordFor(o.firstAccount + i + k), 'bench', 'presence')));
      sessions.push(...batch);
    }
    for (const [i, session] of sessions.entries()) {
      session.events = {
        onText: (_s, text) => {
          const now = performance.now();
          // Each room message's body is 'm<number>'; the subject ends the room entry (XEP-0045 §7.2.15).
          for (const match of text.matchAll(/<body>m(\d+)<\/body>/g)) {
            const start = sentAt.get(Number(match[1]));
            if (start === undefined) continue;
            histogram.recordValue(Math.max(1, Math.round((now - start) * 1000)));
            delivered++;
          }
          if (text.includes('<subject')) joined.add(i);
          if (/id=["']instant["']/.test(text)) unlocked = true;
        },
      };
    }
    const enter = (i: number): void =>
      sessions[i]?.enqueue(
        `<presence to='${room}/o${i}' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
        i,
      );
    // The first occupant creates the room and accepts the default configuration (XEP-0045 §10.1.2), which
    // unlocks it for the others.
    enter(0);
    sessions[0]?.enqueue(
      `<iq type='set' id='instant' to='${room}' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
      0,
    );
    const bound = performance.now() + 30_000;
    while (!unlocked && performance.now() < bound) await sleep(20);
    if (!unlocked) throw new Error('room: the instant room was not acknowledged within 30 s');
    for (let i = 1; i < sessions.length; i++) enter(i);
    // Each entry is presence to every occupant already there: on a busy machine, and on a cluster, that takes a while.
    const entering = performance.now();
    while (joined.size < o.occupants && performance.now() < entering + 120_000) await sleep(50);
    if (joined.size < o.occupants) throw new Error(`room: only ${joined.size} of ${o.occupants} occupants entered within 120 s`);
    const setupSeconds = (performance.now() - t0) / 1000;
    log(`room: ${o.occupants} occupants in ${room} after ${setupSeconds.toFixed(1)} s; ${o.rate} messages/s for ${o.seconds} s`);
    const total = Math.round(o.rate * o.seconds);
    o.onWindow?.('start');
    const start = performance.now();
    for (let n = 0; n < total; n++) {
      const wait = start + (n * 1000) / o.rate - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt.set(n, performance.now());
      sessions[n % o.occupants]?.enqueue(`<message to='${room}' type='groupchat' xmlns='jabber:client'><body>m${n}</body></message>`, n);
    }
    o.onWindow?.('end');
    const expected = total * o.occupants;
    const deadline = performance.now() + o.drainMs;
    while (delivered < expected && performance.now() < deadline) await sleep(50);
    const ms = (p: number): number => (histogram.totalCount ? histogram.getValueAtPercentile(p) / 1000 : NaN);
    return {
      occupants: o.occupants,
      rate: o.rate,
      seconds: o.seconds,
      sent: total,
      expected,
      delivered,
      setupSeconds,
      p50Ms: ms(50),
      p99Ms: ms(99),
      maxMs: histogram.totalCount ? histogram.maxValue / 1000 : NaN,
      deadSessions: sessions.filter((s) => s.dead).length,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.terminate()));
    await transport.close();
  }
}
