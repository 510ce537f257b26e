import { memoryWebhookStores } from '../../src/store/memory-webhook-store';
import type { WebhookStores } from '../../src/store/webhook-store';
import type { WebhookService } from '../../src/webhooks';
import { TestReceiver, eventsOf } from './support/receiver';
import { chat, eventually, startService } from './support/webhook-fixture';

describe('webhook delivery to a real HTTP receiver', () => {
  let receiver: TestReceiver;
  let stores: WebhookStores;
  let service: WebhookService | undefined;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    stores = memoryWebhookStores(1000);
  });

  afterEach(async () => {
    await service?.stop();
    await receiver.close();
  });

  it('delivers every event through 5xx, timeouts, resets and 429 with Retry-After, in order, duplicates only with the same id and body', async () => {
    const started = startService(stores);
    service = started.service;
    await service.start();
    const { secret } = await service.create({ url: receiver.url, events: ['message.chat'] });
    receiver.answer({ status: 500 }, { hang: true }, { reset: true }, { status: 429, retryAfter: '0' }, { status: 503 });
    const sent: string[] = [];
    for (let i = 0; i < 20; i += 1) started.hub.emit('messageRouted', chat(`hello ${i}`));
    await receiver.until(() => receiver.deliveredIds().length === 20);

    const delivered = receiver.requests.filter((request) => 'status' in request.answer && request.answer.status < 300).flatMap((r) => eventsOf(r.body));
    sent.push(...delivered.map((event) => event.body ?? ''));
    expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => `hello ${i}`));
    // Every retry of an event carries the id and body of its first attempt.
    const bodies = new Map<string, string>();
    for (const request of receiver.requests) {
      const id = request.headers['webhook-id'] as string;
      expect(bodies.get(id) ?? request.body).toBe(request.body);
      bodies.set(id, request.body);
    }
    expect(receiver.requests.length).toBeGreaterThan(20);
    receiver.verifyAll(secret);
    expect(receiver.requests[0]?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const sinkId = service.list()[0]!.id;
    await eventually(async () => (await stores.queue.stats(sinkId)).depth === 0);
  });

  it('sends a batch of up to max_events in one signed request, the batch keeping its id when retried', async () => {
    const started = startService(stores);
    service = started.service;
    await service.start();
    const { secret } = await service.create({ url: receiver.url, events: ['message.chat'], batch: { max_events: 5, max_delay_ms: 200 } });
    receiver.answer({ status: 502 });
    for (let i = 0; i < 10; i += 1) started.hub.emit('messageRouted', chat(`batched ${i}`));
    await receiver.until(() => receiver.deliveredIds().length === 10);
    expect(receiver.requests[0]?.headers['webhook-id']).toBe(receiver.requests[1]?.headers['webhook-id']);
    expect(receiver.requests[0]?.headers['webhook-id']).toMatch(/^batch_/);
    expect(receiver.requests.every((request) => eventsOf(request.body).length <= 5)).toBe(true);
    receiver.verifyAll(secret);
  });

  it('moves an event a receiver refuses with 400 to the dead letters at once, and goes on with the next', async () => {
    const started = startService(stores);
    service = started.service;
    await service.start();
    const created = await service.create({ url: receiver.url });
    receiver.answer({ status: 400 });
    started.hub.emit('messageRouted', chat('refused'));
    started.hub.emit('messageRouted', chat('accepted'));
    await receiver.until(() => receiver.deliveredIds().length === 1);
    expect(receiver.requests).toHaveLength(2);
    const letters = await service.deadLetters(created.sink.id, 10);
    expect(letters.map((letter) => [JSON.parse(letter.payload).body, letter.reason])).toEqual([['refused', 'rejected 400']]);
  });

  it('gives an event up after the configured attempts, and a replay delivers it with the same id', async () => {
    const started = startService(stores, { settings: { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxAgeMs: 60_000 } } });
    service = started.service;
    await service.start();
    const created = await service.create({ url: receiver.url });
    receiver.answer({ status: 500 }, { status: 500 }, { status: 500 });
    started.hub.emit('messageRouted', chat('persistent'));
    await receiver.until(() => receiver.requests.length === 3);
    await eventually(async () => (await service!.deadLetters(created.sink.id, 10)).length === 1);
    const letters = await service.deadLetters(created.sink.id, 10);
    expect(letters[0]).toMatchObject({ attempts: 3, reason: 'attempts' });
    expect(await service.replay(created.sink.id)).toBe(1);
    await receiver.until(() => receiver.deliveredIds().length === 1);
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(await service.deadLetters(created.sink.id, 10)).toEqual([]);
  });

  it('disables a sink that answers 410, keeps its events as dead letters, and a replay enables it again', async () => {
    const started = startService(stores);
    service = started.service;
    await service.start();
    const created = await service.create({ url: receiver.url });
    receiver.answer({ status: 410 });
    started.hub.emit('messageRouted', chat('to a gone endpoint'));
    await receiver.until(() => receiver.requests.length === 1);
    await eventually(async () => (await service!.get(created.sink.id)).disabled !== null);
    expect(service.failing()).toEqual([expect.objectContaining({ id: created.sink.id, disabled: true })]);
    // Disabled: a new event is not queued for it.
    started.hub.emit('messageRouted', chat('while disabled'));
    expect(await service.replay(created.sink.id)).toBe(1);
    await receiver.until(() => receiver.deliveredIds().length === 1);
    expect(eventsOf(receiver.requests[1]!.body)[0]?.body).toBe('to a gone endpoint');
    expect((await service.get(created.sink.id)).disabled).toBeNull();
  });
});
