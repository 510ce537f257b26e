import { parseStrictXml } from '../../src/xml';
import { post } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { call, KEYS, startApiNode } from './support/api-node';

const NS = 'http://jabber.org/protocol/httpbind';

describe('prebind (POST /sessions)', () => {
  let node: RunningGateway;

  beforeAll(async () => {
    node = await startApiNode();
  });

  afterAll(async () => {
    await node.close();
  });

  it('opens a BOSH session already logged in and bound, whose next rid the client continues with', async () => {
    const res = await call(node, 'post', '/sessions').send({ username: 'bob', resource: 'page' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ jid: 'bob@localhost/page', sid: expect.any(String), rid: expect.any(Number), url: '/http-bind', wait: 60, hold: 1 });
    const { sid, rid } = res.body as { sid: string; rid: number };
    // The bound resource is in the router before the page has said anything.
    expect(node.xmpp.services.router.find('bob@localhost', 'page')).toBeDefined();
    const answer = await post(
      node.boshUrl,
      `<body rid='${rid}' sid='${sid}' xmlns='${NS}'><iq type='get' id='p1' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq></body>`,
    );
    const body = parseStrictXml(answer.text);
    expect(body.attrs.type).toBeUndefined();
    expect(body.getChild('iq')?.attrs).toMatchObject({ type: 'result', id: 'p1', to: 'bob@localhost/page' });
  });

  it('chooses a resource when none is asked for', async () => {
    const res = await call(node, 'post', '/sessions').send({ username: 'alice' });
    expect(res.body.jid).toMatch(/^alice@localhost\/.+/);
  });

  it('answers 404 for an unknown user, 400 for a bad body and 403 without the sessions scope, opening no session', async () => {
    const before = node.transport.sessionCount;
    expect((await call(node, 'post', '/sessions').send({ username: 'nobody' })).body.error).toBe('user_not_found');
    const bad = await call(node, 'post', '/sessions').send({ username: 'bob', resource: '' });
    expect([bad.status, bad.body.field]).toEqual([400, 'resource']);
    expect((await call(node, 'post', '/sessions', KEYS.pusher).send({ username: 'bob' })).status).toBe(403);
    expect(node.transport.sessionCount).toBe(before);
  });
});

describe('the OpenAPI document', () => {
  let node: RunningGateway;

  beforeAll(async () => {
    node = await startApiNode();
  });

  afterAll(async () => {
    await node.close();
  });

  it('is served without a key and describes every endpoint with the schemas that validate requests', async () => {
    const res = await call(node, 'get', '/openapi.json', null);
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.fromEntries(Object.entries(doc.paths).map(([path, ops]) => [path, Object.keys(ops).sort()]))).toEqual({
      '/users': ['get', 'post'],
      '/users/{username}': ['delete', 'get'],
      '/users/{username}/password': ['put'],
      '/users/{username}/sessions/{resource}': ['delete'],
      '/users/{username}/token': ['post'],
      '/users/{username}/tokens': ['delete'],
      '/sessions': ['post'],
      '/messages': ['post'],
      '/control': ['post'],
      '/groups': ['post'],
      '/groups/{id}': ['delete', 'get'],
      '/groups/{id}/members/{username}': ['delete', 'put'],
      '/groups/{id}/history': ['get'],
      '/users/{username}/groups': ['get'],
      '/users/{username}/history': ['get'],
      '/stats': ['get'],
      '/webhooks': ['get', 'post'],
      '/webhooks/{id}': ['delete', 'get'],
      '/webhooks/{id}/dead-letters': ['get'],
      '/webhooks/{id}/dead-letters/replay': ['post'],
    });
    expect(doc.components.schemas.MessagePush?.required).toEqual(expect.arrayContaining(['to', 'body']));
    expect(doc.components.schemas.ControlPush?.required).toEqual(expect.arrayContaining(['to', 'type']));
    expect(doc.components.schemas.CreateWebhook?.required).toEqual(['url']);
    expect(doc.components.schemas.Webhook?.required).toEqual(expect.arrayContaining(['id', 'url', 'events', 'disabled', 'health']));
    expect(doc.paths['/webhooks/{id}/dead-letters']?.get).toMatchObject({
      parameters: expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' }), expect.objectContaining({ name: 'limit', in: 'query' })]),
    });
  });
});
