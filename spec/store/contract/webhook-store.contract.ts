import type { QueuedDelivery, WebhookSinkRecord, WebhookStores } from '../../../src/store/webhook-store';

/** One backend's webhook stores over empty data, with room for `maxDeadLetters` letters per sink. */
export interface WebhookStoreInstance {
  readonly stores: WebhookStores;
  close(): Promise<void>;
}

export interface WebhookStoreBackend {
  readonly name: string;
  fresh(maxDeadLetters: number): Promise<WebhookStoreInstance>;
}

const sink = (id: string, createdAt: number, overrides: Partial<WebhookSinkRecord> = {}): WebhookSinkRecord => ({
  id,
  url: `https://hooks.example.com/${id}`,
  events: ['message.received', 'session.created'],
  secrets: ['whsec_new', 'whsec_old'],
  batch: { maxEvents: 10, maxDelayMs: 500 },
  ratePerSecond: 5,
  timeoutMs: 2_000,
  filter: { fromDomains: ['example.com'], rooms: ['lobby'] },
  createdAt,
  disabled: undefined,
  ...overrides,
});

/** An event as posted: its id is what a receiver deduplicates on, so it must survive retries and replays. */
const event = (id: string): string => JSON.stringify({ id, type: 'message.received', data: { body: id } });
const idOf = (item: QueuedDelivery): string => (JSON.parse(item.payload) as { id: string }).id;

export function webhookStoreContract(backend: WebhookStoreBackend): void {
  describe(`${backend.name} webhook stores`, () => {
    const opened: WebhookStoreInstance[] = [];
    const open = async (maxDeadLetters = 100): Promise<WebhookStores> => {
      const instance = await backend.fresh(maxDeadLetters);
      opened.push(instance);
      return instance.stores;
    };
    afterEach(async () => {
      for (const instance of opened.splice(0)) await instance.close();
    });

    describe('sinks', () => {
      it('gives back a stored sink as it was put, and nothing for an unknown id', async () => {
        const { sinks } = await open();
        const hooks = sink('hooks', 1_000);
        await sinks.put(hooks);
        expect(await sinks.get('hooks')).toEqual(hooks);
        expect(await sinks.get('missing')).toBeUndefined();
      });

      it('lists sinks oldest first, then by id', async () => {
        const { sinks } = await open();
        await sinks.put(sink('c', 2_000));
        await sinks.put(sink('b', 1_000));
        await sinks.put(sink('a', 2_000));
        expect((await sinks.list()).map((s) => s.id)).toEqual(['b', 'a', 'c']);
      });

      it('deletes a sink once, saying whether there was one', async () => {
        const { sinks } = await open();
        await sinks.put(sink('hooks', 1_000));
        await sinks.put(sink('other', 1_000));
        expect(await sinks.delete('hooks')).toBe(true);
        expect(await sinks.delete('hooks')).toBe(false);
        expect(await sinks.get('hooks')).toBeUndefined();
        expect((await sinks.list()).map((s) => s.id)).toEqual(['other']);
      });

      it('keeps a sink disabled when it is put back disabled, and enabled again when the mark is cleared', async () => {
        const { sinks } = await open();
        const hooks = sink('hooks', 1_000);
        await sinks.put(hooks);
        await sinks.put({ ...hooks, disabled: { at: 5_000, reason: 'gone' } });
        expect((await sinks.get('hooks'))?.disabled).toEqual({ at: 5_000, reason: 'gone' });
        expect((await sinks.list()).map((s) => s.disabled)).toEqual([{ at: 5_000, reason: 'gone' }]);
        await sinks.put({ ...hooks, disabled: undefined });
        expect((await sinks.get('hooks'))?.disabled).toBeUndefined();
        expect(await sinks.get('hooks')).toEqual(hooks);
      });
    });

    describe('queue', () => {
      it('hands each sink its own events in the order they were enqueued, with the time of enqueueing', async () => {
        const { queue } = await open();
        await queue.enqueue(
          [
            { sinkId: 'a', payload: event('a1') },
            { sinkId: 'b', payload: event('b1') },
            { sinkId: 'a', payload: event('a2') },
          ],
          1_000,
        );
        await queue.enqueue([{ sinkId: 'a', payload: event('a3') }], 2_000);
        const a = await queue.take('a', 10);
        expect(a.map(idOf)).toEqual(['a1', 'a2', 'a3']);
        expect(a.map((item) => item.enqueuedAt)).toEqual([1_000, 1_000, 2_000]);
        expect(a.map((item) => item.attempts)).toEqual([0, 0, 0]);
        expect((await queue.take('b', 10)).map(idOf)).toEqual(['b1']);
        expect(await queue.take('nobody', 10)).toEqual([]);
      });

      it('takes no more than asked, and the next events once the head batch is acknowledged', async () => {
        const { queue } = await open();
        await queue.enqueue(
          ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => ({ sinkId: 'a', payload: event(id) })),
          1_000,
        );
        const first = await queue.take('a', 2);
        expect(first.map(idOf)).toEqual(['e1', 'e2']);
        await queue.ack(
          'a',
          first.map((item) => item.seq),
        );
        const second = await queue.take('a', 2);
        expect(second.map(idOf)).toEqual(['e3', 'e4']);
        await queue.ack(
          'a',
          second.map((item) => item.seq),
        );
        const third = await queue.take('a', 2);
        expect(third.map(idOf)).toEqual(['e5']);
        await queue.ack(
          'a',
          third.map((item) => item.seq),
        );
        expect(await queue.take('a', 2)).toEqual([]);
        expect(await queue.stats('a')).toEqual({ depth: 0, oldestAt: undefined });
      });

      it('gives an unacknowledged batch back on the next take, same events and positions, counting failed attempts', async () => {
        const { queue } = await open();
        await queue.enqueue(
          ['e1', 'e2', 'e3'].map((id) => ({ sinkId: 'a', payload: event(id) })),
          1_000,
        );
        const first = await queue.take('a', 2);
        await queue.attempted(
          'a',
          first.map((item) => item.seq),
        );
        const retry = await queue.take('a', 2);
        expect(retry.map(idOf)).toEqual(['e1', 'e2']);
        expect(retry.map((item) => item.seq)).toEqual(first.map((item) => item.seq));
        expect(retry.map((item) => item.payload)).toEqual(first.map((item) => item.payload));
        expect(retry.map((item) => item.attempts)).toEqual([1, 1]);
        await queue.attempted('a', [retry[0]?.seq ?? '']);
        expect((await queue.take('a', 2)).map((item) => item.attempts)).toEqual([2, 1]);
      });

      it('counts the waiting events and the oldest one’s time, per sink', async () => {
        const { queue } = await open();
        expect(await queue.stats('a')).toEqual({ depth: 0, oldestAt: undefined });
        await queue.enqueue([{ sinkId: 'a', payload: event('e1') }], 1_000);
        await queue.enqueue(
          [
            { sinkId: 'a', payload: event('e2') },
            { sinkId: 'b', payload: event('b1') },
          ],
          3_000,
        );
        expect(await queue.stats('a')).toEqual({ depth: 2, oldestAt: 1_000 });
        expect(await queue.stats('b')).toEqual({ depth: 1, oldestAt: 3_000 });
        const [head] = await queue.take('a', 1);
        await queue.ack('a', [head?.seq ?? '']);
        expect(await queue.stats('a')).toEqual({ depth: 1, oldestAt: 3_000 });
      });
    });

    describe('dead letters', () => {
      /** Enqueues `ids` for sink `a`, fails each once and buries them all with `reason`. */
      const buried = async (stores: WebhookStores, ids: readonly string[], reason: string, at: number): Promise<QueuedDelivery[]> => {
        const { queue } = stores;
        await queue.enqueue(
          ids.map((id) => ({ sinkId: 'a', payload: event(id) })),
          1_000,
        );
        const taken = await queue.take('a', ids.length);
        await queue.attempted(
          'a',
          taken.map((item) => item.seq),
        );
        const failed = await queue.take('a', ids.length);
        await queue.bury('a', failed, reason, at);
        return failed;
      };

      it('moves buried events off the queue onto the sink’s dead letters, oldest first, with why and when', async () => {
        const stores = await open();
        const failed = await buried(stores, ['e1', 'e2'], 'attempts', 9_000);
        expect(await stores.queue.take('a', 10)).toEqual([]);
        expect((await stores.queue.stats('a')).depth).toBe(0);
        const letters = await stores.queue.deadLetters('a', 10);
        expect(letters).toEqual(failed.map((item) => ({ ...item, failedAt: 9_000, reason: 'attempts' })));
        expect(letters.map(idOf)).toEqual(['e1', 'e2']);
        expect(letters.map((letter) => letter.attempts)).toEqual([1, 1]);
        expect(await stores.queue.deadLetters('b', 10)).toEqual([]);
      });

      it('lists no more letters than asked, oldest first', async () => {
        const stores = await open();
        await buried(stores, ['e1', 'e2', 'e3'], 'rejected 400', 9_000);
        expect((await stores.queue.deadLetters('a', 2)).map(idOf)).toEqual(['e1', 'e2']);
      });

      it('keeps only the newest letters when the list is full', async () => {
        const stores = await open(2);
        await buried(stores, ['e1', 'e2'], 'attempts', 9_000);
        await buried(stores, ['e3'], 'expired', 10_000);
        const letters = await stores.queue.deadLetters('a', 10);
        expect(letters.map(idOf)).toEqual(['e2', 'e3']);
        expect(letters.map((letter) => letter.reason)).toEqual(['attempts', 'expired']);
      });

      it('replays every letter to the tail of the queue with the same event and its attempts reset, once', async () => {
        const stores = await open();
        const { queue } = stores;
        await buried(stores, ['e1', 'e2'], 'gone', 9_000);
        await queue.enqueue([{ sinkId: 'a', payload: event('e3') }], 10_000);
        expect(await queue.replay('a', 11_000)).toBe(2);
        expect(await queue.deadLetters('a', 10)).toEqual([]);
        expect(await queue.replay('a', 12_000)).toBe(0);
        const again = await queue.take('a', 10);
        expect(again.map(idOf)).toEqual(['e3', 'e1', 'e2']);
        expect(again.map((item) => item.payload)).toEqual([event('e3'), event('e1'), event('e2')]);
        expect(again.map((item) => item.attempts)).toEqual([0, 0, 0]);
        expect(again.map((item) => item.enqueuedAt)).toEqual([10_000, 11_000, 11_000]);
      });

      it('forgets a purged sink’s queue and letters, and leaves other sinks’ alone', async () => {
        const stores = await open();
        const { queue } = stores;
        await buried(stores, ['e1'], 'gone', 9_000);
        await queue.enqueue(
          [
            { sinkId: 'a', payload: event('e2') },
            { sinkId: 'b', payload: event('b1') },
          ],
          10_000,
        );
        await queue.purge('a');
        expect(await queue.deadLetters('a', 10)).toEqual([]);
        expect(await queue.stats('a')).toEqual({ depth: 0, oldestAt: undefined });
        expect(await queue.take('a', 10)).toEqual([]);
        expect((await queue.take('b', 10)).map(idOf)).toEqual(['b1']);
        await queue.enqueue([{ sinkId: 'a', payload: event('e3') }], 11_000);
        expect((await queue.take('a', 10)).map(idOf)).toEqual(['e3']);
      });
    });
  });
}
