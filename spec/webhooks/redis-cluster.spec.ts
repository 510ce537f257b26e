import Redis from 'ioredis';
import { redisWebhookStores } from '../../src/store/redis/redis-webhook-store';
import { fetchPoster, type Poster } from '../../src/webhooks';
import { TestRedis } from '../support/redis-server';
import { TestReceiver } from './support/receiver';
import { chat, eventually, startService } from './support/webhook-fixture';

/** Marks each node's requests, so the receiver can tell who delivered what. */
const fromNode =
  (node: string): Poster =>
  (url, body, headers, timeoutMs, cancel) =>
    fetchPoster(`${url}?node=${node}`, body, headers, timeoutMs, cancel);

describe('webhook delivery in cluster mode (a Redis stream per sink, one consumer group)', () => {
  let redis: TestRedis;
  let receiver: TestReceiver;
  const connections: Redis[] = [];

  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await redis.stop();
  });
  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await receiver.close();
  });

  const storesOf = (node: string, claimIdleMs: number) => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return redisWebhookStores(connection, 'test:', node, claimIdleMs, 100);
  };

  it('delivers the events a node had taken when that node stops mid-delivery, from the other node, with the same ids', async () => {
    const a = startService(storesOf('node-a', 300), { post: fromNode('a') });
    await a.service.start();
    const { sink, secret } = await a.service.create({ url: receiver.url, timeout_ms: 30_000, batch: { max_events: 10, max_delay_ms: 0 } });
    // Node A's request hangs: it is mid-delivery when it dies.
    receiver.answer({ hang: true });
    for (let i = 0; i < 5; i += 1) a.hub.emit('messageRouted', chat(`taken by a ${i}`));
    await receiver.until(() => receiver.requests.length === 1);
    const taken = JSON.parse(receiver.requests[0]!.body) as { events: { id: string }[] };
    await a.service.stop();

    const b = startService(storesOf('node-b', 300), { post: fromNode('b') });
    try {
      await b.service.start();
      expect(b.service.list().map((s) => s.id)).toEqual([sink.id]);
      await receiver.until(() => receiver.deliveredIds().length === 5);
      expect(receiver.deliveredIds()).toEqual(taken.events.map((event) => event.id));
      expect(receiver.requests.slice(1).every((request) => request.headers['webhook-id'] === receiver.requests[0]!.headers['webhook-id'])).toBe(true);
      receiver.verifyAll(secret);
      const queue = storesOf('observer', 300).queue;
      await eventually(async () => (await queue.stats(sink.id)).depth === 0);
    } finally {
      await b.service.stop();
    }
  });

  it('delivers each event once per sink while two nodes read the same stream', async () => {
    const a = startService(storesOf('node-a2', 5_000), { post: fromNode('a') });
    const b = startService(storesOf('node-b2', 5_000), { post: fromNode('b') });
    await a.service.start();
    await b.service.start();
    try {
      await a.service.create({ url: receiver.url });
      await b.service.refresh();
      for (let i = 0; i < 30; i += 1) (i % 2 === 0 ? a : b).hub.emit('messageRouted', chat(`shared ${i}`));
      await receiver.until(() => receiver.deliveredIds().length === 30);
      expect(receiver.requests).toHaveLength(30);
    } finally {
      await a.service.stop();
      await b.service.stop();
    }
  });
});
