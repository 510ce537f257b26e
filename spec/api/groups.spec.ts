import type { Element } from 'ltx';
import { BoshTestClient } from '../support/bosh-client';
import type { RunningGateway } from '../e2e/support/gateway';
import { API_KEYS, call, KEYS, startApiNode } from './support/api-node';

/** History and tokens only: neither under the users scope, though their paths are under /users. */
const HISTORIAN = 'historian-key-0123456789abcdef';

const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_NOTICE = 'urn:bosh-gateway:muc-notice:0';
const NS_SID = 'urn:xmpp:sid:0';
const NS_CONTROL = 'urn:bosh-gateway:control:0';
const ROOMS = 'conference.localhost';

const statusCodes = (presence: Element): string[] => (presence.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));

describe('groups through the API (members-only persistent rooms, XEP-0045)', () => {
  let node: RunningGateway;
  const clients: BoshTestClient[] = [];
  let users = 0;
  let groups = 0;
  const events: Array<{ name: string; room: string; jid: string; affiliation: string; reason: string }> = [];

  const newUser = async (): Promise<string> => {
    const username = `member${++users}`;
    expect((await call(node, 'post', '/users').send({ username, password: 'pw' })).status).toBe(201);
    return username;
  };
  const online = async (username: string): Promise<BoshTestClient> => {
    const client = await BoshTestClient.login(node.boshUrl, username, 'pw');
    clients.push(client);
    client.send("<presence xmlns='jabber:client'/>");
    await client.iq(`<iq type='get' id='available' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'available');
    return client;
  };
  /** Enters the group's room under `nick` and resolves with the room's answer (the own presence, or an error). */
  const enter = async (client: BoshTestClient, group: string, nick: string): Promise<Element> => {
    client.send(`<presence xmlns='jabber:client' to='${group}@${ROOMS}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    return client.waitFor(
      (e) => e.name === 'presence' && e.attrs.from === `${group}@${ROOMS}/${nick}` && (e.attrs.type === 'error' || statusCodes(e).includes('110')),
    );
  };
  const newGroup = async (members: string[], owner?: string): Promise<string> => {
    const id = `group${++groups}`;
    const res = await call(node, 'post', '/groups').send({ name: id, members, ...(owner ? { owner } : {}) });
    expect(res.status).toBe(201);
    return id;
  };

  beforeAll(async () => {
    node = await startApiNode({
      API_KEYS: `${API_KEYS},historian:${HISTORIAN}:history+tokens`,
      API_HISTORY_MAX_LIMIT: '5',
      API_HISTORY_DEFAULT_LIMIT: '3',
      API_MAX_RECIPIENTS: '4',
    });
    for (const name of ['groupMemberAdded', 'groupMemberRemoved'] as const) {
      node.events.on(name, (event) => {
        events.push({ name, room: event.room, jid: event.jid, affiliation: event.affiliation, reason: event.reason });
      });
    }
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await node.close();
  });

  describe('creating and reading', () => {
    it('creates a group with an owner and members (201), a members-only persistent room, and reads it back', async () => {
      const [owner, a, b] = [await newUser(), await newUser(), await newUser()];
      const res = await call(node, 'post', '/groups').send({ name: 'The crew', id: 'crew', owner, members: [a, `${b}@localhost`, a] });
      expect(res.status).toBe(201);
      const expected = {
        id: 'crew',
        jid: `crew@${ROOMS}`,
        name: 'The crew',
        owner,
        members: [
          { username: owner, jid: `${owner}@localhost`, affiliation: 'owner' },
          ...[a, b].sort().map((u) => ({ username: u, jid: `${u}@localhost`, affiliation: 'member' })),
        ],
      };
      expect(res.body).toEqual(expected);
      expect((await call(node, 'get', '/groups/crew')).body).toEqual(expected);
      const room = await node.stores.rooms.room('crew');
      expect(room?.config).toMatchObject({ membersOnly: true, persistent: true, public: false, name: 'The crew' });
      expect(events.filter((e) => e.room === `crew@${ROOMS}`).map((e) => [e.name, e.jid.split('@')[0], e.affiliation])).toEqual([
        ['groupMemberAdded', owner, 'owner'],
        ['groupMemberAdded', a, 'member'],
        ['groupMemberAdded', b, 'member'],
      ]);
    });

    it('takes the name as the id when it is one, and is owned by the domain without an owner', async () => {
      const member = await newUser();
      const res = await call(node, 'post', '/groups').send({ name: 'ops', members: [member] });
      expect(res.body).toMatchObject({ id: 'ops', owner: null, members: [{ username: member, affiliation: 'member' }] });
      expect((await node.stores.rooms.affiliations('ops')).get('localhost')).toBe('owner');
    });

    it('answers 409 for an id a group or room has, and 400 naming the field for bad input, creating nothing', async () => {
      const member = await newUser();
      await newGroup([member]);
      const taken = await call(node, 'post', '/groups').send({ name: `group${groups}`, members: [] });
      expect([taken.status, taken.body.error]).toEqual([409, 'group_exists']);
      const cases: Array<[object, string]> = [
        [{ name: 'Not an id', members: [] }, 'id'],
        [{ name: 'x', id: 'Upper', members: [] }, 'id'],
        [{ name: 'x2', members: ['nobody'] }, 'members.0'],
        [{ name: 'x3', members: [member, 'someone@elsewhere.example'] }, 'members.1'],
        [{ name: 'x4', members: [`${member}@localhost/phone`] }, 'members.0'],
        [{ name: 'x5', members: [], owner: 'nobody' }, 'owner'],
        [{ name: 'bad\uffff', members: [] }, 'name'],
        [{ members: [] }, 'name'],
      ];
      for (const [body, field] of cases) {
        const res = await call(node, 'post', '/groups').send(body);
        expect([res.status, res.body.error, res.body.field]).toEqual([400, 'invalid_body', field]);
      }
      const many = await call(node, 'post', '/groups').send({ name: 'big', members: ['a', 'b', 'c', 'd', 'e'] });
      expect([many.status, many.body.error, many.body.field]).toEqual([413, 'too_many_recipients', 'members']);
      for (const id of ['x2', 'x3', 'x4', 'x5', 'big']) expect(await node.stores.rooms.room(id)).toBeUndefined();
    });

    it('answers 404 for an unknown group or an open room that is not a group, 400 for a bad id', async () => {
      expect((await call(node, 'get', '/groups/nosuch')).body.error).toBe('group_not_found');
      const client = await online(await newUser());
      await enter(client, 'openroom', 'me');
      expect((await call(node, 'get', '/groups/openroom')).status).toBe(404);
      const bad = await call(node, 'get', `/groups/${encodeURIComponent('a b')}`);
      expect([bad.status, bad.body.error, bad.body.field]).toEqual([400, 'invalid_parameter', 'id']);
    });

    it("lists a user's groups (GET /users/{username}/groups), 404 for an unknown user", async () => {
      const [user, other] = [await newUser(), await newUser()];
      const first = await newGroup([user]);
      const second = await newGroup([other], user);
      await newGroup([other]);
      // Read from the room store's per-user index, not from a scan of every room.
      const scan = jest.spyOn(node.stores.rooms, 'rooms');
      const res = await call(node, 'get', `/users/${user}/groups`);
      expect(scan).not.toHaveBeenCalled();
      scan.mockRestore();
      expect(res.status).toBe(200);
      expect(res.body.groups).toEqual([
        { id: first, jid: `${first}@${ROOMS}`, name: first, affiliation: 'member' },
        { id: second, jid: `${second}@${ROOMS}`, name: second, affiliation: 'owner' },
      ]);
      expect((await call(node, 'get', '/users/nobody/groups')).body.error).toBe('user_not_found');
    });
  });

  describe('members (the XEP-0045 affiliation path)', () => {
    it('PUT makes a user a member who may then enter (XEP-0045 §7.2.7), idempotently', async () => {
      const [owner, joiner] = [await newUser(), await newUser()];
      const group = await newGroup([], owner);
      const client = await online(joiner);
      const refused = await enter(client, group, 'joiner');
      expect(refused.getChild('error')?.getChild('registration-required')).toBeDefined();
      expect((await call(node, 'put', `/groups/${group}/members/${joiner}`)).status).toBe(204);
      expect((await call(node, 'put', `/groups/${group}/members/${joiner}`)).status).toBe(204);
      const entered = await enter(client, group, 'joiner2');
      expect(entered.attrs.type).toBeUndefined();
      expect(entered.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation).toBe('member');
      const added = events.filter((e) => e.room === `${group}@${ROOMS}` && e.jid === `${joiner}@localhost`);
      expect(added.map((e) => e.name)).toEqual(['groupMemberAdded']);
    });

    it('DELETE ends a membership: the occupant is removed with status 321 (XEP-0045 §9.4) and the others hear it', async () => {
      const [owner, leaver] = [await newUser(), await newUser()];
      const group = await newGroup([leaver], owner);
      const [ownerClient, leaverClient] = [await online(owner), await online(leaver)];
      await enter(ownerClient, group, 'boss');
      await enter(leaverClient, group, 'leaver');
      expect((await call(node, 'delete', `/groups/${group}/members/${leaver}`)).status).toBe(204);
      for (const client of [leaverClient, ownerClient]) {
        const gone = await client.waitFor((e) => e.name === 'presence' && e.attrs.from === `${group}@${ROOMS}/leaver` && e.attrs.type === 'unavailable');
        expect(statusCodes(gone)).toContain('321');
      }
      expect(events.filter((e) => e.room === `${group}@${ROOMS}` && e.jid === `${leaver}@localhost`).map((e) => [e.name, e.affiliation])).toEqual([
        ['groupMemberAdded', 'member'],
        ['groupMemberRemoved', 'none'],
      ]);
      expect((await call(node, 'get', `/groups/${group}`)).body.members.map((m: { username: string }) => m.username)).toEqual([owner]);
    });

    it('answers 404 for a non-member, an unknown user or group, and 409 for the last owner', async () => {
      const [owner, outsider] = [await newUser(), await newUser()];
      const group = await newGroup([], owner);
      expect((await call(node, 'delete', `/groups/${group}/members/${outsider}`)).body.error).toBe('member_not_found');
      expect((await call(node, 'put', `/groups/${group}/members/nobody`)).body.error).toBe('user_not_found');
      expect((await call(node, 'put', `/groups/nosuch/members/${outsider}`)).body.error).toBe('group_not_found');
      expect((await call(node, 'delete', `/groups/nosuch/members/${outsider}`)).body.error).toBe('group_not_found');
      const last = await call(node, 'delete', `/groups/${group}/members/${owner}`);
      expect([last.status, last.body.error]).toEqual([409, 'last_owner']);
    });
  });

  describe('messages to a group (POST /messages and /control with to: {group})', () => {
    it('sends one groupchat message from the room to occupants, with its stanza-id, and a notice to absent members', async () => {
      const [inside, absent] = [await newUser(), await newUser()];
      const group = await newGroup([inside, absent]);
      const [insideClient, absentClient] = [await online(inside), await online(absent)];
      await enter(insideClient, group, 'in');
      const res = await call(node, 'post', '/messages').send({ to: { group }, body: 'Standup in 5' });
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([{ to: `${group}@${ROOMS}`, status: 'delivered', seq: 1, archive_id: expect.stringMatching(/^[0-9a-f]{10}-1$/) }]);
      const message = await insideClient.waitFor((e) => e.name === 'message' && e.getChildText('body') === 'Standup in 5');
      expect(message.attrs).toMatchObject({ type: 'groupchat', from: `${group}@${ROOMS}`, id: res.body.id });
      expect(message.getChild('stanza-id', NS_SID)?.attrs).toMatchObject({ by: `${group}@${ROOMS}`, id: res.body.results[0].archive_id });
      const notice = await absentClient.waitFor((e) => e.name === 'message' && e.getChild('notice', NS_NOTICE) !== undefined);
      expect(notice.getChild('notice', NS_NOTICE)?.attrs).toMatchObject({
        seq: '1',
        id: res.body.results[0].archive_id,
        from: `${group}@${ROOMS}`,
        jid: 'localhost',
      });
    });

    it('sends a control message into the group as a groupchat carrying the <control/> payload', async () => {
      const member = await newUser();
      const group = await newGroup([member]);
      const client = await online(member);
      await enter(client, group, 'm');
      await call(node, 'post', '/messages').send({ to: { group }, body: 'first' });
      const res = await call(node, 'post', '/control', KEYS.pusher).send({ to: { group }, type: 'poll.opened', data: { poll: 3 } });
      expect(res.body.results).toEqual([expect.objectContaining({ status: 'delivered', seq: 2 })]);
      const message = await client.waitFor((e) => e.name === 'message' && e.getChild('control', NS_CONTROL) !== undefined);
      expect(message.attrs).toMatchObject({ type: 'groupchat', from: `${group}@${ROOMS}` });
      expect(message.getChild('control', NS_CONTROL)?.attrs).toMatchObject({ type: 'poll.opened', app: 'pusher' });
    });

    it('refuses what does not apply to a group (400 naming the field) and an unknown group (404), sending nothing', async () => {
      const group = await newGroup([]);
      const cases: Array<[string, object, string]> = [
        ['/messages', { to: { group }, body: 'x', from: 'alice' }, 'from'],
        ['/messages', { to: { group }, body: 'x', type: 'chat' }, 'type'],
        ['/messages', { to: { group }, body: 'x', store: false }, 'store'],
        ['/messages', { to: { group: 'Not valid' }, body: 'x' }, 'to.group'],
        ['/control', { to: { group }, type: 'x', store: true }, 'store'],
        ['/control', { to: { group }, type: 'x', ttl_seconds: 60 }, 'ttl_seconds'],
      ];
      for (const [path, body, field] of cases) {
        const res = await call(node, 'post', path).send(body);
        expect([res.status, res.body.error, res.body.field]).toEqual([400, 'invalid_body', field]);
      }
      const unknown = await call(node, 'post', '/messages').send({ to: { group: 'nosuch' }, body: 'x' });
      expect([unknown.status, unknown.body.error]).toEqual([404, 'group_not_found']);
      expect(await node.stores.archive.lastSeq(`room:${group}@${ROOMS}`)).toBe(0);
    });
  });

  describe('history', () => {
    it("pages a group's messages with their sequence numbers: after N, before N, the latest page, limits", async () => {
      const group = await newGroup([]);
      for (let n = 1; n <= 7; n++) await call(node, 'post', '/messages').send({ to: { group }, body: `m${n}` });
      const page = async (query: string) => {
        const res = await call(node, 'get', `/groups/${group}/history${query}`, KEYS.full);
        expect(res.status).toBe(200);
        return res.body as { messages: Array<{ seq: number; body: string; id: string }>; complete: boolean; first: string; last: string; direction: string };
      };
      const seqs = (p: { messages: Array<{ seq: number }> }) => p.messages.map((m) => m.seq);
      // Default limit 3 (API_HISTORY_DEFAULT_LIMIT); no position: the latest page.
      const latest = await page('');
      expect([seqs(latest), latest.direction, latest.complete]).toEqual([[5, 6, 7], 'backward', false]);
      expect(latest.messages[2]).toMatchObject({ body: 'm7', from: `${group}@${ROOMS}`, type: 'groupchat', id: latest.last });
      const fromStart = await page('?after=0&limit=5');
      expect([seqs(fromStart), fromStart.direction, fromStart.complete]).toEqual([[1, 2, 3, 4, 5], 'forward', false]);
      const rest = await page('?after=5&limit=5');
      expect([seqs(rest), rest.complete]).toEqual([[6, 7], true]);
      const byId = await page(`?after=${fromStart.last}`);
      expect(seqs(byId)).toEqual([6, 7]);
      const before = await page('?before=3');
      expect([seqs(before), before.direction, before.complete]).toEqual([[1, 2], 'backward', true]);
      const between = await page('?after=2&before=5');
      expect([seqs(between), between.complete]).toEqual([[3, 4], true]);
      expect(seqs(await page('?after=7'))).toEqual([]);
    });

    it('answers 400 for a bad position or limit, 404 for an unknown group or message', async () => {
      const group = await newGroup([]);
      await call(node, 'post', '/messages').send({ to: { group }, body: 'only' });
      for (const [query, field] of [
        ['?limit=6', 'limit'],
        ['?limit=0', 'limit'],
        ['?after=x', 'after'],
        ['?after=-1', 'after'],
        ['?before=0', 'before'],
        ['?after=0123456789-1', 'after'],
        ['?since=1', undefined],
      ] as const) {
        const res = await call(node, 'get', `/groups/${group}/history${query}`);
        expect([res.status, res.body.error]).toEqual([400, 'invalid_parameter']);
        if (field) expect(res.body.field).toBe(field);
      }
      expect((await call(node, 'get', `/groups/${group}/history?before=9`)).body.error).toBe('message_not_found');
      expect((await call(node, 'get', '/groups/nosuch/history')).body.error).toBe('group_not_found');
    });

    it("pages a user's chats, one conversation by sequence number (with) or all of them by archive id", async () => {
      const [reader, contact] = [await newUser(), await newUser()];
      const [readerClient, contactClient] = [await online(reader), await online(contact)];
      for (const body of ['hi', 'how are you', 'fine']) {
        readerClient.send(`<message xmlns='jabber:client' type='chat' to='${contact}@localhost'><body>${body}</body></message>`);
        await contactClient.waitFor((e) => e.name === 'message' && e.getChildText('body') === body);
      }
      const all = await call(node, 'get', `/users/${reader}/history?after=0&with=${contact}`);
      expect(all.status).toBe(200);
      expect(all.body.messages.map((m: { seq: number; body: string; with: string }) => [m.seq, m.body, m.with])).toEqual([
        [1, 'hi', `${contact}@localhost`],
        [2, 'how are you', `${contact}@localhost`],
        [3, 'fine', `${contact}@localhost`],
      ]);
      expect(all.body.complete).toBe(true);
      // The other party's archive holds the same numbers and ids.
      const theirs = await call(node, 'get', `/users/${contact}/history?with=${reader}@localhost&after=1`);
      expect(theirs.body.messages.map((m: { id: string }) => m.id)).toEqual(all.body.messages.slice(1).map((m: { id: string }) => m.id));
      const latest = await call(node, 'get', `/users/${reader}/history?limit=2`);
      expect(latest.body.messages.map((m: { body: string }) => m.body)).toEqual(['how are you', 'fine']);
      const after = await call(node, 'get', `/users/${reader}/history?after=${all.body.first}`);
      expect(after.body.messages.map((m: { seq: number }) => m.seq)).toEqual([2, 3]);
      const ambiguous = await call(node, 'get', `/users/${reader}/history?after=1`);
      expect([ambiguous.status, ambiguous.body.field]).toEqual([400, 'after']);
      expect((await call(node, 'get', `/users/${reader}/history?with=nobody@elsewhere.example`)).body.field).toBe('with');
      expect((await call(node, 'get', '/users/nobody/history')).body.error).toBe('user_not_found');
    });
  });

  describe('deleting a group', () => {
    it('destroys the room: occupants get the XEP-0045 §10.9 destroy presence; the group and its history are gone', async () => {
      const member = await newUser();
      const group = await newGroup([member]);
      const client = await online(member);
      await enter(client, group, 'm');
      await call(node, 'post', '/messages').send({ to: { group }, body: 'bye' });
      expect((await call(node, 'delete', `/groups/${group}`)).status).toBe(204);
      const gone = await client.waitFor(
        (e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.getChild('x', NS_MUC_USER)?.getChild('destroy') !== undefined,
      );
      expect(gone.attrs.from).toBe(`${group}@${ROOMS}/m`);
      expect(gone.getChild('x', NS_MUC_USER)?.getChild('destroy')?.getChildText('reason')).toBe('the group was deleted');
      expect((await call(node, 'get', `/groups/${group}`)).status).toBe(404);
      expect((await call(node, 'get', `/groups/${group}/history`)).status).toBe(404);
      expect((await call(node, 'delete', `/groups/${group}`)).body.error).toBe('group_not_found');
      expect(await node.stores.archive.query({ owner: `${group}@${ROOMS}`, limit: 10 })).toMatchObject({ messages: [] });
    });

    it('reports each of its members removed (groupMemberRemoved, reason destroyed), and leaves them no group to list', async () => {
      const [owner, a, b] = [await newUser(), await newUser(), await newUser()];
      const group = await newGroup([a, b], owner);
      expect((await call(node, 'delete', `/groups/${group}`)).status).toBe(204);
      const removed = events.filter((e) => e.room === `${group}@${ROOMS}` && e.name === 'groupMemberRemoved');
      expect(removed.map((e) => [e.jid.split('@')[0], e.affiliation, e.reason]).sort()).toEqual([owner, a, b].sort().map((u) => [u, 'none', 'destroyed']));
      for (const user of [owner, a, b]) expect((await call(node, 'get', `/users/${user}/groups`)).body.groups).toEqual([]);
    });
  });

  describe('deleting a user (DELETE /users/{username})', () => {
    it('takes the user out of every group: the occupant is removed with 321 (XEP-0045 §9.4), each membership ends with reason account-removed', async () => {
      const [leaver, owner] = [await newUser(), await newUser()];
      const [first, second] = [await newGroup([leaver], owner), await newGroup([leaver, owner])];
      const ownerClient = await online(owner);
      const leaverClient = await online(leaver);
      await enter(ownerClient, first, 'boss');
      await enter(leaverClient, first, 'leaver');
      expect((await call(node, 'delete', `/users/${leaver}`)).status).toBe(204);
      const gone = await ownerClient.waitFor((e) => e.name === 'presence' && e.attrs.from === `${first}@${ROOMS}/leaver` && e.attrs.type === 'unavailable');
      expect(statusCodes(gone)).toContain('321');
      const removed = events.filter((e) => e.jid === `${leaver}@localhost` && e.name === 'groupMemberRemoved');
      expect(removed.map((e) => [e.room, e.reason])).toEqual([
        [`${first}@${ROOMS}`, 'account-removed'],
        [`${second}@${ROOMS}`, 'account-removed'],
      ]);
      for (const group of [first, second]) {
        const members = (await call(node, 'get', `/groups/${group}`)).body.members.map((m: { username: string }) => m.username);
        expect(members).toEqual([owner]);
      }
      expect(await node.stores.rooms.affiliationsOf(`${leaver}@localhost`)).toEqual([]);
    });

    it('leaves a group whose only owner was removed in place, owned by the gateway (owner null), its members and history kept', async () => {
      const [owner, member] = [await newUser(), await newUser()];
      const group = await newGroup([member], owner);
      await call(node, 'post', '/messages').send({ to: { group }, body: 'kept' });
      expect((await call(node, 'delete', `/users/${owner}`)).status).toBe(204);
      const after = await call(node, 'get', `/groups/${group}`);
      expect(after.body).toMatchObject({ owner: null, members: [{ username: member, affiliation: 'member' }] });
      expect((await call(node, 'get', `/groups/${group}/history`)).body.messages).toHaveLength(1);
      expect((await call(node, 'delete', `/groups/${group}`)).status).toBe(204);
    });
  });

  describe('scopes and the document', () => {
    it('needs the groups scope for /groups and the history scope for history (403), and push for group pushes', async () => {
      const group = await newGroup([]);
      for (const [method, path] of [
        ['post', '/groups'],
        ['get', `/groups/${group}`],
        ['put', `/groups/${group}/members/alice`],
        ['delete', `/groups/${group}`],
        ['get', '/users/alice/groups'],
        ['get', `/groups/${group}/history`],
        ['get', '/users/alice/history'],
      ] as const) {
        const res = await call(node, method, path, KEYS.pusher).send({});
        expect([method, path, res.status, res.body.error]).toEqual([method, path, 403, 'forbidden']);
      }
      const stats = await call(node, 'post', '/messages', KEYS.stats).send({ to: { group }, body: 'x' });
      expect(stats.status).toBe(403);
    });

    it('lets a key with the history and tokens scopes alone use /users/{username}/history and /token, and nothing else of /users', async () => {
      expect((await call(node, 'get', '/users/alice/history', HISTORIAN)).status).toBe(200);
      expect((await call(node, 'post', '/users/alice/token', HISTORIAN).send({})).status).toBe(201);
      expect((await call(node, 'get', '/users/alice', HISTORIAN)).status).toBe(403);
      expect((await call(node, 'get', '/users/alice/groups', HISTORIAN)).status).toBe(403);
    });

    it('lists the group and history operations in the OpenAPI document', async () => {
      const { body } = await call(node, 'get', '/openapi.json', null);
      for (const path of [
        '/groups',
        '/groups/{id}',
        '/groups/{id}/members/{username}',
        '/users/{username}/groups',
        '/users/{username}/history',
        '/groups/{id}/history',
      ]) {
        expect(Object.keys(body.paths)).toContain(path);
      }
      expect(body.components.schemas.HistoryPage.properties.messages).toBeDefined();
    });
  });
});

describe('groups on a gateway without MUC', () => {
  it('answers groups_unavailable (400)', async () => {
    const node = await startApiNode({ MUC_ENABLED: 'false' });
    try {
      expect((await call(node, 'get', '/groups/crew')).body.error).toBe('groups_unavailable');
      const push = await call(node, 'post', '/messages').send({ to: { group: 'crew' }, body: 'x' });
      expect([push.status, push.body.error]).toEqual([400, 'groups_unavailable']);
    } finally {
      await node.close();
    }
  });
});
