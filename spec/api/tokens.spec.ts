import { BoshTestClient } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { until } from '../e2e/support/until';
import { call, KEYS, startApiNode } from './support/api-node';

describe('login tokens', () => {
  let node: RunningGateway;
  const clients: BoshTestClient[] = [];
  const login = async (user: string, password: string): Promise<BoshTestClient> => {
    const client = await BoshTestClient.login(node.boshUrl, user, password);
    clients.push(client);
    return client;
  };
  const token = async (user: string, body: object = {}): Promise<string> => {
    const res = await call(node, 'post', `/users/${user}/token`).send(body);
    expect(res.status).toBe(201);
    return res.body.token as string;
  };

  beforeAll(async () => {
    node = await startApiNode({ API_TOKEN_MAX_TTL: '600' });
    await call(node, 'post', '/users').send({ username: 'carol', password: 'carol-pass' });
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await node.close();
  });

  it('issues a token with its expiry that logs the user in as the SASL PLAIN password', async () => {
    const res = await call(node, 'post', '/users/carol/token').send({ ttl_seconds: 120 });
    expect(res.status).toBe(201);
    const expires = Date.parse(res.body.expires_at as string);
    expect(expires - Date.now()).toBeGreaterThan(100_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(120_000);
    const client = await login('carol', res.body.token as string);
    expect(client.jid).toMatch(/^carol@localhost\//);
    // The password still works beside it.
    await login('carol', 'carol-pass');
  });

  it('works for a user of USERS too, and not for another user', async () => {
    const bobs = await token('bob');
    await login('bob', bobs);
    await expect(BoshTestClient.login(node.boshUrl, 'alice', bobs)).rejects.toThrow(/login failed/);
  });

  it('refuses a ttl over API_TOKEN_MAX_TTL, a bad body, an unknown user and a key without the tokens scope', async () => {
    const long = await call(node, 'post', '/users/carol/token').send({ ttl_seconds: 601 });
    expect([long.status, long.body.field]).toEqual([400, 'ttl_seconds']);
    expect((await call(node, 'post', '/users/carol/token').send({ ttl_seconds: 'soon' })).status).toBe(400);
    expect((await call(node, 'post', '/users/nobody/token').send({})).body.error).toBe('user_not_found');
    expect((await call(node, 'post', '/users/carol/token', KEYS.pusher).send({})).status).toBe(403);
  });

  it('stops working when it expires', async () => {
    const res = await call(node, 'post', '/users/carol/token').send({ ttl_seconds: 1 });
    const expiresAt = Date.parse(res.body.expires_at as string);
    // Time is the subject here: the token must be past its expiry.
    await until('the token to expire', () => Date.now() > expiresAt, 3000, 50);
    await expect(BoshTestClient.login(node.boshUrl, 'carol', res.body.token as string)).rejects.toThrow(/login failed/);
  });

  it('is void after DELETE /users/{username}/tokens and after a password change; a new one works', async () => {
    const revoked = await token('carol');
    expect((await call(node, 'delete', '/users/carol/tokens')).status).toBe(204);
    await expect(BoshTestClient.login(node.boshUrl, 'carol', revoked)).rejects.toThrow(/login failed/);
    const beforeChange = await token('carol');
    expect((await call(node, 'put', '/users/carol/password').send({ password: 'changed' })).status).toBe(204);
    await expect(BoshTestClient.login(node.boshUrl, 'carol', beforeChange)).rejects.toThrow(/login failed/);
    await login('carol', await token('carol'));
  });

  it('is void once the user is deleted, and does not log into a new account of the same name', async () => {
    await call(node, 'post', '/users').send({ username: 'dora', password: 'pw' });
    const old = await token('dora');
    expect((await call(node, 'delete', '/users/dora')).status).toBe(204);
    await expect(BoshTestClient.login(node.boshUrl, 'dora', old)).rejects.toThrow(/login failed/);
    await call(node, 'post', '/users').send({ username: 'dora', password: 'pw' });
    await expect(BoshTestClient.login(node.boshUrl, 'dora', old)).rejects.toThrow(/login failed/);
  });

  it('counts a refused token as a failed login, slowed down by the login throttle', async () => {
    const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec(await node.metrics.registry.metrics())?.[1] ?? 0);
    const failed = /^xmpp_auth_total\{[^}]*mechanism="PLAIN"[^}]*outcome="failure"[^}]*\} (\d+)$/m;
    const delayed = /^xmpp_auth_failure_delay_seconds_count(?:\{[^}]*\})? (\d+)$/m;
    const before = { failed: await metric(failed), delayed: await metric(delayed) };
    await expect(BoshTestClient.login(node.boshUrl, 'carol', await token('bob'))).rejects.toThrow(/login failed/);
    expect(await metric(failed)).toBe(before.failed + 1);
    expect(await metric(delayed)).toBeGreaterThan(before.delayed);
  });
});
