import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** How the receiver answers one request. */
export type Answer =
  | { readonly status: number; readonly retryAfter?: string }
  | { readonly hang: true } // never answers: the sender's timeout fires
  | { readonly reset: true }; // drops the connection: a network error

export interface ReceivedRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly answer: Answer;
}

/**
 * A real webhook receiver on a free port. Each request takes the next scripted answer, then `fallback`;
 * every request is recorded with the answer it got.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  fallback: Answer = { status: 204 };
  private readonly script: Answer[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(port = 0): Promise<TestReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const receiver = new TestReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => receiver.handle(req, res));
    return receiver;
  }

  /** The next requests get these answers, in order. */
  answer(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  /** Resolves when `check` holds after some request (checked at once too). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** Event ids delivered with a 2xx answer, each once, in the order of their first success. */
  deliveredIds(): string[] {
    const ids: string[] = [];
    for (const request of this.requests) {
      if (!('status' in request.answer) || request.answer.status >= 300) continue;
      for (const event of eventsOf(request.body)) if (!ids.includes(event.id)) ids.push(event.id);
    }
    return ids;
  }

  /** Whether every request carries a signature that the Standard Webhooks verifier accepts with `secret`. */
  verifyAll(secret: string): void {
    const verifier = new Webhook(secret);
    for (const request of this.requests) verifier.verify(request.body, request.headers);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = this.script.shift() ?? this.fallback;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      this.requests.push({ headers, body: Buffer.concat(chunks).toString('utf8'), answer });
      if ('hang' in answer) this.hanging.add(res);
      else if ('reset' in answer) res.socket?.destroy();
      else {
        if (answer.retryAfter !== undefined) res.setHeader('retry-after', answer.retryAfter);
        res.statusCode = answer.status;
        res.end();
      }
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.check()) return true;
        waiter.resolve();
        return false;
      });
    });
  }
}

/** The events of one request body: the event itself, or a batch's events. */
export function eventsOf(body: string): { id: string; type: string; body?: string }[] {
  const parsed = JSON.parse(body) as { type: string; events?: { id: string; type: string }[]; id: string };
  return parsed.type === 'batch' ? (parsed.events ?? []) : [parsed];
}
