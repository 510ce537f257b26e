import { BoshTestClient } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { call, KEYS, startApiNode } from './support/api-node';

describe('the API without a valid application key', () => {
  let node: RunningGateway;
  let bob: BoshTestClient;

  beforeAll(async () => {
    node = await startApiNode({ API_MAX_BODY_BYTES: '2048' });
    bob = await BoshTestClient.login(node.boshUrl, 'bob', 'secret');
    bob.send("<presence xmlns='jabber:client'/>");
    await bob.iq("<iq type='get' id='p1' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>", 'p1');
  });

  afterAll(async () => {
    await bob.terminate();
    await node.close();
  });

  const push = { to: ['bob', 'alice'], type: 'chat', body: 'must not arrive' };

  it('answers 401 missing_key with a Bearer challenge when no key is sent', async () => {
    const res = await call(node, 'post', '/messages', null).send(push);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'missing_key', message: expect.any(String) });
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers 401 invalid_key for a wrong key, a key of another scheme, and a key one character short', async () => {
    for (const header of ['Bearer wrong-key-0123456789abcdef', `Basic ${KEYS.full}`, `Bearer ${KEYS.full.slice(0, -1)}`]) {
      const res = await call(node, 'post', '/messages', null).set('Authorization', header).send(push);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_key');
      expect(res.headers['www-authenticate']).toContain('invalid_token');
    }
  });

  it('answers 403 forbidden when the key is valid but the application lacks the scope', async () => {
    const res = await call(node, 'post', '/messages', KEYS.stats).send(push);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', message: expect.stringContaining("'push'") });
    expect((await call(node, 'post', '/users', KEYS.pusher).send({ username: 'carol' })).status).toBe(403);
    expect((await call(node, 'get', '/stats', KEYS.stats)).status).toBe(200);
  });

  it('answers 413 body_too_large for a body over API_MAX_BODY_BYTES, before reading it', async () => {
    const res = await call(node, 'post', '/messages')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...push, body: 'x'.repeat(4096) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'body_too_large', message: expect.any(String) });
  });

  it('answers 400 invalid_body for a body that is not JSON', async () => {
    const res = await call(node, 'post', '/messages').set('Content-Type', 'application/json').send('{"to": [');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_body');
  });

  it('answers 404 not_found as JSON for an unknown endpoint', async () => {
    const res = await call(node, 'get', '/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });

  it('sent and stored nothing for any of the refused calls', async () => {
    expect(await node.stores.offline.count('alice')).toBe(0);
    // Stanzas reach a session in the order they are routed: the first message bob gets is the one accepted now.
    const res = await call(node, 'post', '/messages').send({ to: ['bob'], type: 'chat', body: 'the first accepted' });
    expect(res.body.results).toEqual([{ to: 'bob@localhost', status: 'delivered' }]);
    const first = await bob.waitFor((e) => e.name === 'message');
    expect(first.getChildText('body')).toBe('the first accepted');
  });
});

describe('the push quota', () => {
  let node: RunningGateway;

  beforeAll(async () => {
    node = await startApiNode({ API_QUOTA_PER_MINUTE: '2' });
  });

  afterAll(async () => {
    await node.close();
  });

  it('answers 429 quota_exceeded with Retry-After beyond API_QUOTA_PER_MINUTE calls, storing nothing', async () => {
    const push = { to: ['alice'], type: 'chat', body: 'kept' };
    expect((await call(node, 'post', '/messages').send(push)).status).toBe(200);
    expect((await call(node, 'post', '/control').send({ to: ['alice'], type: 'x', store: true })).status).toBe(200);
    const refused = await call(node, 'post', '/messages').send({ ...push, body: 'refused' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('quota_exceeded');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await node.stores.offline.count('alice')).toBe(2);
  });

  it('counts each application apart', async () => {
    expect((await call(node, 'post', '/messages', KEYS.pusher).send({ to: ['alice'], body: 'other app' })).status).toBe(200);
  });

  it('does not count a call refused for its body', async () => {
    const res = await call(node, 'post', '/messages', KEYS.pusher).send({ to: [], body: 'x' });
    expect(res.status).toBe(400);
    expect((await call(node, 'post', '/messages', KEYS.pusher).send({ to: ['alice'], body: 'second' })).status).toBe(200);
  });
});
