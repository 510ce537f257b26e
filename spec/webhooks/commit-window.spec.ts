import { memoryWebhookStores } from '../../src/store/memory-webhook-store';
import type { EnqueueEntry, WebhookStores } from '../../src/store/webhook-store';
import { chat, startService } from './support/webhook-fixture';

/** The queue's store with its enqueue calls recorded. */
function recording(): { stores: WebhookStores; writes: EnqueueEntry[][] } {
  const stores = memoryWebhookStores(1000);
  const writes: EnqueueEntry[][] = [];
  const enqueue = stores.queue.enqueue.bind(stores.queue);
  stores.queue.enqueue = async (entries, at) => {
    writes.push([...entries]);
    return enqueue(entries, at);
  };
  return { stores, writes };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WEBHOOK_COMMIT_MS: events reach the queue together', () => {
  afterEach(() => jest.useRealTimers());

  it('writes the events of one commit window, emitted over several turns of the event loop, in one enqueue', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const { stores, writes } = recording();
    const { hub, service } = startService(stores, { settings: { commitMs: 20, refreshMs: 60_000, pollMs: 60_000 } });
    await service.start();
    await service.create({ url: 'http://127.0.0.1:9/never', events: ['message.chat'] });
    for (let i = 0; i < 10; i += 1) {
      hub.emit('messageRouted', chat(`turn ${i}`));
      await turn();
    }
    expect(writes).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(20);
    expect(writes.map((entries) => entries.length)).toEqual([10]);

    // The next window starts with the next event.
    hub.emit('messageRouted', chat('later'));
    await turn();
    await jest.advanceTimersByTimeAsync(20);
    expect(writes.map((entries) => entries.length)).toEqual([10, 1]);
    await service.stop();
  });

  it('with 0 writes once per turn of the event loop', async () => {
    const { stores, writes } = recording();
    const { hub, service } = startService(stores, { settings: { commitMs: 0, refreshMs: 60_000, pollMs: 60_000 } });
    await service.start();
    await service.create({ url: 'http://127.0.0.1:9/never', events: ['message.chat'] });
    hub.emit('messageRouted', chat('one'));
    hub.emit('messageRouted', chat('two'));
    await turn();
    await turn();
    hub.emit('messageRouted', chat('three'));
    await turn();
    await turn();
    expect(writes.map((entries) => entries.length)).toEqual([2, 1]);
    await service.stop();
  });

  it('writes what is waiting when the service stops, without waiting for the window', async () => {
    const { stores, writes } = recording();
    const { hub, service } = startService(stores, { settings: { commitMs: 1000, refreshMs: 60_000, pollMs: 60_000 } });
    await service.start();
    await service.create({ url: 'http://127.0.0.1:9/never', events: ['message.chat'] });
    hub.emit('messageRouted', chat('last'));
    await turn();
    await service.stop();
    expect(writes.flat()).toHaveLength(1);
  });
});
