import type { Element } from 'ltx';
import { BoshTestClient } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { until } from '../e2e/support/until';
import { call, KEYS, startApiNode } from './support/api-node';

const NS_CONTROL = 'urn:bosh-gateway:control:0';
const control = (e: Element): Element | undefined => (e.name === 'message' ? e.getChild('control', NS_CONTROL) : undefined);
const ping = (client: BoshTestClient, id: string): Promise<Element> =>
  client.iq(`<iq type='get' id='${id}' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, id);

describe('pushes through the API', () => {
  let node: RunningGateway;
  let bob: BoshTestClient;
  const clients: BoshTestClient[] = [];
  let users = 0;

  /** A new user of its own for a test, offline until `online` logs them in and sends initial presence. */
  const newUser = async (): Promise<string> => {
    const username = `user${++users}`;
    expect((await call(node, 'post', '/users').send({ username, password: 'pw' })).status).toBe(201);
    return username;
  };
  const online = async (username: string, password = 'pw'): Promise<BoshTestClient> => {
    const client = await BoshTestClient.login(node.boshUrl, username, password);
    clients.push(client);
    client.send("<presence xmlns='jabber:client'/>");
    // Stanzas of one stream are handled in order (RFC 6120 §10.1): the pong proves the presence went first.
    await ping(client, 'available');
    return client;
  };

  beforeAll(async () => {
    node = await startApiNode({ API_MAX_RECIPIENTS: '3' });
    bob = await online('bob', 'secret');
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await node.close();
  });

  it('delivers a chat message to an online user, stores it for an offline one and names an unknown one', async () => {
    const offline = await newUser();
    const res = await call(node, 'post', '/messages').send({ to: ['bob', `${offline}@localhost`, 'nobody'], type: 'chat', body: 'hello' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { to: 'bob@localhost', status: 'delivered' },
      { to: `${offline}@localhost`, status: 'stored' },
      { to: 'nobody@localhost', status: 'unknown-user' },
    ]);
    const message = await bob.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'hello');
    expect(message.attrs).toMatchObject({ from: 'localhost', type: 'chat', id: res.body.id });
    expect(await node.stores.offline.count(offline)).toBe(1);
    const later = await online(offline);
    await later.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'hello');
  });

  it('sends as a user of the domain when asked (from)', async () => {
    const res = await call(node, 'post', '/messages').send({ to: ['bob'], from: 'alice', body: 'from alice' });
    expect(res.body.results).toEqual([{ to: 'bob@localhost', status: 'delivered' }]);
    const message = await bob.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'from alice');
    expect(message.attrs.from).toBe('alice@localhost');
  });

  it('keeps nothing for an offline user when store is false or the type is headline', async () => {
    const offline = await newUser();
    const unstored = await call(node, 'post', '/messages').send({ to: [offline], body: 'not kept', store: false });
    expect(unstored.body.results).toEqual([{ to: `${offline}@localhost`, status: 'offline' }]);
    const headline = await call(node, 'post', '/messages').send({ to: [offline], type: 'headline', body: 'news' });
    expect(headline.body.results).toEqual([{ to: `${offline}@localhost`, status: 'offline' }]);
    expect(await node.stores.offline.count(offline)).toBe(0);
  });

  it('refuses a bad body naming the field, sending and storing nothing', async () => {
    const offline = await newUser();
    const cases: Array<[object, string | undefined]> = [
      [{ to: [offline], type: 'chat' }, 'body'],
      [{ to: [offline], body: 'x', type: 'groupchat' }, 'type'],
      [{ to: offline, body: 'x' }, 'to'],
      [{ to: [offline, 'not valid'], body: 'x' }, 'to.1'],
      [{ to: [offline, 'someone@elsewhere.example'], body: 'x' }, 'to.1'],
      [{ to: [offline], from: 'nobody', body: 'x' }, 'from'],
      [{ to: [offline], body: 'bad \u0001 character' }, 'body'],
      [{ to: [offline], body: 'x', unknown: 1 }, undefined],
    ];
    for (const [body, field] of cases) {
      const res = await call(node, 'post', '/messages').send(body);
      expect([res.status, res.body.error]).toEqual([400, 'invalid_body']);
      if (field) expect(res.body.field).toBe(field);
    }
    const badControl = await call(node, 'post', '/control').send({ to: [offline], type: 'x', data: { text: '\uffff' }, store: true });
    expect([badControl.status, badControl.body.field]).toEqual([400, 'data']);
    expect(await node.stores.offline.count(offline)).toBe(0);
  });

  it('refuses more than API_MAX_RECIPIENTS recipients (413), sending and storing nothing', async () => {
    const offline = await newUser();
    const to = [offline, 'bob', 'alice', 'carol'];
    for (const [path, body] of [
      ['/messages', { to, body: 'too many' }],
      ['/control', { to, type: 'x', store: true }],
    ] as const) {
      const res = await call(node, 'post', path).send(body);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: 'too_many_recipients', message: expect.stringContaining('at most 3'), field: 'to' });
    }
    expect(await node.stores.offline.count(offline)).toBe(0);
  });

  it('answers 404 group_not_found for a group that does not exist, sending nothing (groups: spec/api/groups.spec.ts)', async () => {
    for (const [path, body] of [
      ['/messages', { to: { group: 'team' }, body: 'x' }],
      ['/control', { to: { group: 'team' }, type: 'x' }],
    ] as const) {
      const res = await call(node, 'post', path).send(body);
      expect([res.status, res.body.error, res.body.field]).toEqual([404, 'group_not_found', 'to.group']);
    }
  });

  it('hands a control message to every online session of a user at once, as a headline from the domain', async () => {
    const user = await newUser();
    const [phone, laptop] = [await online(user), await online(user)];
    const res = await call(node, 'post', '/control', KEYS.pusher).send({
      to: [user],
      type: 'order.updated',
      data: { order: 42, items: ['a'] },
      priority: 'high',
    });
    expect(res.body.results).toEqual([{ to: `${user}@localhost`, status: 'delivered' }]);
    for (const client of [phone, laptop]) {
      const message = await client.waitFor((e) => control(e) !== undefined);
      expect(message.attrs).toMatchObject({ from: 'localhost', type: 'headline', id: res.body.id });
      const element = control(message) as Element;
      expect(element.attrs).toMatchObject({ type: 'order.updated', app: 'pusher', id: res.body.id, priority: 'high' });
      expect(Number.isNaN(Date.parse(String(element.attrs.ts)))).toBe(false);
      expect(JSON.parse(element.getText())).toEqual({ order: 42, items: ['a'] });
    }
  });

  it('stores a control message for an offline user when asked, and delivers it at login', async () => {
    const user = await newUser();
    const unstored = await call(node, 'post', '/control').send({ to: [user], type: 'ephemeral', data: {} });
    expect(unstored.body.results).toEqual([{ to: `${user}@localhost`, status: 'offline' }]);
    const res = await call(node, 'post', '/control').send({ to: [user], type: 'invite', data: { room: 7 }, store: true, ttl_seconds: 3600 });
    expect(res.body.results).toEqual([{ to: `${user}@localhost`, status: 'stored' }]);
    const client = await online(user);
    const message = await client.waitFor((e) => control(e) !== undefined);
    expect(control(message)?.attrs.type).toBe('invite');
    expect(message.getChild('delay', 'urn:xmpp:delay')).toBeDefined();
    // XEP-0023: the seconds it has left.
    expect(Number(message.getChild('x', 'jabber:x:expire')?.attrs.seconds)).toBeLessThanOrEqual(3600);
    expect(client.inbox.filter((e) => control(e)).map((e) => control(e)?.attrs.type)).toEqual(['invite']);
  });

  it('drops a stored control message whose ttl has passed by the time the user logs in', async () => {
    const user = await newUser();
    const res = await call(node, 'post', '/control').send({ to: [user], type: 'expiring', data: {}, store: true, ttl_seconds: 1 });
    expect(res.body.results).toEqual([{ to: `${user}@localhost`, status: 'stored' }]);
    await call(node, 'post', '/messages').send({ to: [user], body: 'still here' });
    // Time is the subject here: the ttl must have run out before the login.
    const storedAt = Date.now();
    await until('the ttl to pass', () => Date.now() - storedAt > 1100, 3000, 50);
    const client = await online(user);
    // Offline messages go out in order at initial presence (XEP-0160): the chat after the control.
    await client.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'still here');
    expect(client.inbox.filter((e) => control(e) !== undefined)).toEqual([]);
  });

  it('counts pushes per application and overall in /stats', async () => {
    const res = await call(node, 'get', '/stats');
    expect(res.status).toBe(200);
    const { applications, total, online: who, node: name } = res.body;
    expect(name).toBe('local');
    expect(applications.pusher).toEqual({ pushes: 1, recipients: 1, delivered: 1, stored: 0, offline: 0, unknown_user: 0, failed: 0 });
    expect(applications.full.unknown_user).toBe(1);
    expect(total.pushes).toBe(applications.full.pushes + applications.pusher.pushes);
    expect(total.stored).toBeGreaterThanOrEqual(4);
    expect(who.sessions).toBeGreaterThanOrEqual(5);
    expect(who.users).toBeGreaterThanOrEqual(4);
  });
});
