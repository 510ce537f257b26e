import request from 'supertest';
import type { RunningGateway } from '../e2e/support/gateway';
import { TestReceiver } from '../webhooks/support/receiver';
import { chat } from '../webhooks/support/webhook-fixture';
import { call, KEYS, startApiNode } from './support/api-node';

describe('the webhooks endpoints of /api/v1', () => {
  let node: RunningGateway;
  let receiver: TestReceiver;

  beforeAll(async () => {
    node = await startApiNode({ WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_RETRY_MAX_DELAY_MS: '50', WEBHOOK_POLL_MS: '50' });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await node.close();
    await receiver.close();
  });

  it('creates a sink, shows it without its secret, and delivers a signed chat event to it', async () => {
    const created = await call(node, 'post', '/webhooks')
      .send({ url: receiver.url, events: ['message.chat'] })
      .expect(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^wh_/), secret: expect.stringMatching(/^whsec_/), events: ['message.chat'] });
    const shown = await call(node, 'get', `/webhooks/${created.body.id}`).expect(200);
    expect(shown.body.secret).toBeUndefined();
    expect((await call(node, 'get', '/webhooks').expect(200)).body.webhooks.map((sink: { id: string }) => sink.id)).toEqual([created.body.id]);

    node.events.emit('messageRouted', chat('over the API', 'alice@localhost/web', 'bob@localhost'));
    await receiver.until(() => receiver.deliveredIds().length === 1);
    receiver.verifyAll(created.body.secret);
    await call(node, 'delete', `/webhooks/${created.body.id}`).expect(204);
    await call(node, 'get', `/webhooks/${created.body.id}`).expect(404);
  });

  it('refuses a bad definition with the field at fault, a key without the webhooks scope with 403, and no key with 401', async () => {
    const bad = await call(node, 'post', '/webhooks')
      .send({ url: receiver.url, events: ['message.nope'] })
      .expect(400);
    expect(bad.body).toMatchObject({ error: 'invalid_body', field: 'events.0' });
    const secret = await call(node, 'post', '/webhooks').send({ url: receiver.url, secret: 'short' }).expect(400);
    expect(secret.body).toMatchObject({ field: 'secret' });
    await call(node, 'get', '/webhooks', KEYS.stats).expect(403);
    await call(node, 'get', '/webhooks', null).expect(401);
    expect((await call(node, 'get', '/webhooks').expect(200)).body.webhooks).toEqual([]);
  });

  it('lists a failing sink in /readyz while staying ready, and replays its dead letters', async () => {
    const created = await call(node, 'post', '/webhooks').send({ url: receiver.url }).expect(201);
    receiver.answer({ status: 422 });
    node.events.emit('messageRouted', chat('refused once', 'alice@localhost/web', 'bob@localhost'));
    await receiver.until(() => receiver.requests.some((request) => 'status' in request.answer && request.answer.status === 422));
    let letters = await call(node, 'get', `/webhooks/${created.body.id}/dead-letters`).expect(200);
    while (letters.body.dead_letters.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      letters = await call(node, 'get', `/webhooks/${created.body.id}/dead-letters`).expect(200);
    }
    expect(letters.body.dead_letters[0]).toMatchObject({ reason: 'rejected 422', event: { type: 'message.chat', body: 'refused once' } });
    const ready = await request(node.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.webhooks.failing).toEqual([expect.objectContaining({ id: created.body.id, last_error: 'HTTP 422' })]);

    const before = receiver.deliveredIds().length;
    expect((await call(node, 'post', `/webhooks/${created.body.id}/dead-letters/replay`).expect(200)).body).toEqual({ replayed: 1 });
    await receiver.until(() => receiver.deliveredIds().length === before + 1);
  });
});
