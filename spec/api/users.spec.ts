import { BoshTestClient } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { call, startApiNode } from './support/api-node';

const streamError = (e: { name: string }): boolean => e.name === 'stream:error';
const conditionOf = (e: { children: unknown[] }): string | undefined =>
  (e.children.find((c) => typeof c !== 'string' && (c as { name: string }).name !== 'text') as { name: string } | undefined)?.name;

describe('users through the API', () => {
  let node: RunningGateway;
  const clients: BoshTestClient[] = [];
  const login = async (user: string, password: string, resource?: string): Promise<BoshTestClient> => {
    const client = await BoshTestClient.login(node.boshUrl, user, password, resource);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    node = await startApiNode();
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await node.close();
  });

  it('creates a user with the given password (201) and refuses the name again (409)', async () => {
    const res = await call(node, 'post', '/users').send({ username: 'carol', password: 'carol-pass' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ username: 'carol', jid: 'carol@localhost' });
    const again = await call(node, 'post', '/users').send({ username: 'carol', password: 'x' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'user_exists', message: expect.any(String), field: 'username' });
    const client = await login('carol', 'carol-pass');
    expect(client.jid).toMatch(/^carol@localhost\//);
  });

  it('generates a password when none is given and returns it once', async () => {
    const res = await call(node, 'post', '/users').send({ username: 'dave' });
    expect(res.status).toBe(201);
    expect(res.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await login('dave', res.body.password as string);
  });

  it('refuses a bad body naming the field (400)', async () => {
    for (const [body, field] of [
      [{ username: 'Not Valid' }, 'username'],
      [{ username: 'eve', password: '' }, 'password'],
      [{ username: 'eve', extra: true }, undefined],
      [{}, 'username'],
    ] as const) {
      const res = await call(node, 'post', '/users').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_body');
      if (field) expect(res.body.field).toBe(field);
    }
    expect(await node.accounts.exists('eve')).toBe(false);
  });

  it('lists users in pages', async () => {
    const first = await call(node, 'get', '/users?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.users).toEqual([
      { username: 'alice', read_only: true },
      { username: 'bob', read_only: true },
    ]);
    const second = await call(node, 'get', `/users?limit=2&after=${first.body.next as string}`);
    expect(second.body.users.map((u: { username: string }) => u.username)).toEqual(['carol', 'dave']);
    expect((await call(node, 'get', '/users?limit=0')).body.error).toBe('invalid_parameter');
  });

  it('shows a user with their sessions, and 404 for an unknown user', async () => {
    const offline = await call(node, 'get', '/users/bob');
    expect(offline.body).toEqual({ username: 'bob', jid: 'bob@localhost', online: false, sessions: [] });
    const bob = await login('bob', 'secret', 'phone');
    bob.send("<presence xmlns='jabber:client'/>");
    await bob.iq("<iq type='get' id='p' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>", 'p');
    const online = await call(node, 'get', '/users/bob');
    expect(online.body).toEqual({
      username: 'bob',
      jid: 'bob@localhost',
      online: true,
      sessions: [{ resource: 'phone', node: 'local', available: true, priority: 0, since: expect.stringMatching(/^\d{4}-/) }],
    });
    const unknown = await call(node, 'get', '/users/nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('user_not_found');
  });

  it('changes a password: the old one stops working, the new one works; 404 for an unknown user', async () => {
    expect((await call(node, 'put', '/users/carol/password').send({ password: 'new-pass' })).status).toBe(204);
    await expect(BoshTestClient.login(node.boshUrl, 'carol', 'carol-pass')).rejects.toThrow(/login failed/);
    await login('carol', 'new-pass');
    expect((await call(node, 'put', '/users/nobody/password').send({ password: 'x' })).status).toBe(404);
    expect((await call(node, 'put', '/users/alice/password').send({ password: 'x' })).body.error).toBe('read_only_user');
  });

  it('kicks one session with a policy-violation stream error; 404 for a resource that is not there', async () => {
    expect((await call(node, 'post', '/users').send({ username: 'frank', password: 'pw' })).status).toBe(201);
    const laptop = await login('frank', 'pw', 'laptop');
    const desk = await login('frank', 'pw', 'desk');
    expect((await call(node, 'delete', '/users/frank/sessions/laptop')).status).toBe(204);
    expect(conditionOf(await laptop.waitFor(streamError))).toBe('policy-violation');
    expect((await desk.iq("<iq type='get' id='d' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>", 'd')).attrs.type).toBe('result');
    const missing = await call(node, 'delete', '/users/frank/sessions/laptop');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('session_not_found');
  });

  it("deletes a user: their sessions end, contacts' subscriptions are cancelled, logins fail, the name is free again", async () => {
    await call(node, 'post', '/users').send({ username: 'gina', password: 'pw' });
    const gina = await login('gina', 'pw');
    const bob = await login('bob', 'secret', 'desk');
    bob.send("<presence xmlns='jabber:client'/>");
    // bob and gina subscribe to each other (RFC 6121 §3).
    bob.send("<presence type='subscribe' to='gina@localhost' xmlns='jabber:client'/>");
    gina.send("<presence type='subscribed' to='bob@localhost' xmlns='jabber:client'/>");
    await bob.waitFor((e) => e.name === 'presence' && e.attrs.type === 'subscribed');
    expect((await call(node, 'delete', '/users/gina')).status).toBe(204);
    expect(conditionOf(await gina.waitFor(streamError))).toBe('policy-violation');
    // bob's roster item for gina is cancelled as if gina had removed bob (RFC 6121 §2.5.2).
    await bob.waitFor((e) => e.name === 'presence' && e.attrs.type === 'unsubscribed' && String(e.attrs.from).startsWith('gina@'));
    await expect(BoshTestClient.login(node.boshUrl, 'gina', 'pw')).rejects.toThrow(/login failed/);
    expect((await call(node, 'get', '/users/gina')).status).toBe(404);
    expect((await call(node, 'delete', '/users/gina')).status).toBe(404);
    expect((await call(node, 'post', '/users').send({ username: 'gina', password: 'pw2' })).status).toBe(201);
  });

  it('refuses to delete a user of USERS (409 read_only_user)', async () => {
    const res = await call(node, 'delete', '/users/alice');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('read_only_user');
    expect(await node.accounts.exists('alice')).toBe(true);
  });
});
