import type { DeadLetter, EnqueueEntry, QueuedDelivery, QueueStats, WebhookQueue, WebhookSinkRecord, WebhookSinkStore, WebhookStores } from './webhook-store';

/** Sinks in this process only (tests, STORAGE=memory). */
export class MemoryWebhookSinkStore implements WebhookSinkStore {
  private readonly sinks = new Map<string, WebhookSinkRecord>();

  async put(sink: WebhookSinkRecord): Promise<void> {
    this.sinks.set(sink.id, sink);
  }

  async get(id: string): Promise<WebhookSinkRecord | undefined> {
    return this.sinks.get(id);
  }

  async list(): Promise<WebhookSinkRecord[]> {
    return [...this.sinks.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<boolean> {
    return this.sinks.delete(id);
  }
}

interface Entry {
  seq: number;
  payload: string;
  enqueuedAt: number;
  attempts: number;
}

/** Queues in this process only: one consumer, nothing survives a restart. */
export class MemoryWebhookQueue implements WebhookQueue {
  private nextSeq = 1;
  private readonly queues = new Map<string, Entry[]>();
  private readonly dead = new Map<string, DeadLetter[]>();

  constructor(private readonly maxDeadLetters: number) {}

  async enqueue(entries: readonly EnqueueEntry[], at: number): Promise<void> {
    for (const { sinkId, payload } of entries) this.queueOf(sinkId).push({ seq: this.nextSeq++, payload, enqueuedAt: at, attempts: 0 });
  }

  async take(sinkId: string, max: number): Promise<QueuedDelivery[]> {
    return (this.queues.get(sinkId) ?? []).slice(0, max).map(shown);
  }

  async keep(): Promise<void> {
    // One consumer: nobody else could take them.
  }

  async attempted(sinkId: string, seqs: readonly string[]): Promise<void> {
    for (const entry of this.find(sinkId, seqs)) entry.attempts += 1;
  }

  async ack(sinkId: string, seqs: readonly string[]): Promise<void> {
    this.remove(sinkId, seqs);
  }

  async bury(sinkId: string, items: readonly QueuedDelivery[], reason: string, at: number): Promise<void> {
    const removed = this.remove(
      sinkId,
      items.map((item) => item.seq),
    );
    const letters = this.dead.get(sinkId) ?? [];
    for (const entry of removed) letters.push({ ...shown(entry), failedAt: at, reason });
    // The oldest letters go first when the list is full.
    letters.splice(0, Math.max(0, letters.length - this.maxDeadLetters));
    this.dead.set(sinkId, letters);
  }

  async deadLetters(sinkId: string, limit: number): Promise<DeadLetter[]> {
    return (this.dead.get(sinkId) ?? []).slice(0, limit);
  }

  async replay(sinkId: string, at: number): Promise<number> {
    const letters = this.dead.get(sinkId) ?? [];
    this.dead.delete(sinkId);
    await this.enqueue(
      letters.map((letter) => ({ sinkId, payload: letter.payload })),
      at,
    );
    return letters.length;
  }

  async stats(sinkId: string): Promise<QueueStats> {
    const queue = this.queues.get(sinkId) ?? [];
    return { depth: queue.length, oldestAt: queue[0]?.enqueuedAt };
  }

  async purge(sinkId: string): Promise<void> {
    this.queues.delete(sinkId);
    this.dead.delete(sinkId);
  }

  private queueOf(sinkId: string): Entry[] {
    let queue = this.queues.get(sinkId);
    if (!queue) {
      queue = [];
      this.queues.set(sinkId, queue);
    }
    return queue;
  }

  private find(sinkId: string, seqs: readonly string[]): Entry[] {
    const wanted = new Set(seqs);
    return (this.queues.get(sinkId) ?? []).filter((entry) => wanted.has(String(entry.seq)));
  }

  private remove(sinkId: string, seqs: readonly string[]): Entry[] {
    const queue = this.queues.get(sinkId);
    if (!queue) return [];
    const wanted = new Set(seqs);
    const removed = queue.filter((entry) => wanted.has(String(entry.seq)));
    this.queues.set(
      sinkId,
      queue.filter((entry) => !wanted.has(String(entry.seq))),
    );
    return removed;
  }
}

export function memoryWebhookStores(maxDeadLetters: number): WebhookStores {
  return { sinks: new MemoryWebhookSinkStore(), queue: new MemoryWebhookQueue(maxDeadLetters) };
}

function shown(entry: Entry): QueuedDelivery {
  return { seq: String(entry.seq), payload: entry.payload, enqueuedAt: entry.enqueuedAt, attempts: entry.attempts };
}
