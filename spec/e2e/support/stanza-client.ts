/**
 * A thin promise wrapper around a real StanzaJS 12 agent (its Node build: BOSH over the global
 * fetch()), configured as docs/clients.md shows: `transports: { websocket: false, bosh: url }`.
 *
 * StanzaJS's BOSH transport (`stanza/transports/bosh.js`) asks for hold='2' and drives exactly two
 * request channels, one for sending and one for polling; it ignores type='error' bodies and resends
 * a request after an HTTP or network error. Everything it receives is kept, so a wait can be for an
 * event that already happened; a terminal answer or a disconnect fails every pending wait at once.
 */
import * as XMPP from 'stanza';

type Received = { readonly event: string; readonly stanza: XMPP.Stanzas.ReceivedMessage | XMPP.Stanzas.ReceivedPresence };

const KEPT_EVENTS = ['chat', 'available', 'unavailable', 'subscribe', 'subscribed'] as const;
type KeptEvent = (typeof KEPT_EVENTS)[number];

export class StanzaClient {
  readonly agent: XMPP.Agent;
  /** The raw BOSH bodies, in and out, for failure messages and wire checks. */
  readonly raw: string[] = [];
  readonly received: Received[] = [];
  /** Why the session ended, once it has (a terminal body or a transport disconnect). */
  ended: string | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    readonly label: string,
    boshUrl: string,
    jid: string,
    password: string,
  ) {
    this.agent = XMPP.createClient({ jid, password, transports: { websocket: false, bosh: boshUrl } });
    this.agent.on('raw:outgoing', (data: string) => this.raw.push(`${stamp()} SENT ${data}`));
    this.agent.on('raw:incoming', (data: string) => this.raw.push(`${stamp()} RECV ${data}`));
    for (const event of KEPT_EVENTS) {
      this.agent.on(event, (stanza: Received['stanza']) => {
        this.received.push({ event, stanza });
        this.wake();
      });
    }
    this.agent.on('bosh:terminate', (body: unknown) =>
      this.end(`terminal BOSH body (${(body as { condition?: string } | undefined)?.condition ?? 'no condition'})`),
    );
    this.agent.on('disconnected', (err?: Error) => this.end(`disconnected${err ? `: ${err.message}` : ''}`));
  }

  /** Connects and resolves with the bound full JID at session:started. */
  start(timeoutMs = 10_000): Promise<string> {
    const started = this.until('session:started', () => (this.agent.sessionStarted ? this.agent.jid : undefined), timeoutMs);
    this.agent.on('session:started', () => this.wake());
    this.agent.connect();
    return started;
  }

  /** The first `event` (already received or still to come) whose stanza passes `test`. */
  waitFor<T extends Received['stanza']>(event: KeptEvent, test: (stanza: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    return this.until(what, () => this.received.find((r) => r.event === event && test(r.stanza as T))?.stanza as T | undefined, timeoutMs);
  }

  /** A chat with exactly this body. */
  waitForChat(body: string, timeoutMs: number): Promise<XMPP.Stanzas.ReceivedMessage> {
    return this.waitFor<XMPP.Stanzas.ReceivedMessage>('chat', (m) => m.body === body, timeoutMs, `chat '${body}'`);
  }

  /** Chat bodies received from a bare JID, in arrival order. */
  chatsFrom(bare: string): string[] {
    return this.received
      .filter((r) => r.event === 'chat' && String(r.stanza.from).split('/')[0] === bare)
      .map((r) => (r.stanza as XMPP.Stanzas.ReceivedMessage).body ?? '');
  }

  /** Logs off (XEP-0124 §13); resolves once StanzaJS reports the disconnect. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.ended !== undefined || !this.agent.sessionStarted) return;
    const done = this.until('disconnected', () => (this.ended !== undefined ? true : undefined), timeoutMs, false);
    void this.agent.disconnect();
    await done;
  }

  dump(last = 30): string {
    const lines = this.raw.slice(-last);
    return `--- ${this.label} BOSH traffic (last ${lines.length} of ${this.raw.length}) ---\n${lines.join('\n')}`;
  }

  private end(why: string): void {
    if (this.ended === undefined) this.ended = why;
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private until<T>(what: string, probe: () => T | undefined, timeoutMs: number, failOnEnd = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const found = probe();
        if (found !== undefined) resolve(found);
        else if (failOnEnd && this.ended !== undefined)
          reject(new Error(`${this.label}: session ended (${this.ended}) while waiting for ${what}\n${this.dump()}`));
        else return false;
        return true;
      };
      if (check()) return;
      const wake = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.dump()}`));
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}
