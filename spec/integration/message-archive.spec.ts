import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const MAM = 'urn:xmpp:mam:2';
const SID = 'urn:xmpp:sid:0';
const RSM = 'http://jabber.org/protocol/rsm';
const FORWARD = 'urn:xmpp:forward:0';

let node: RunningNode;
const clients: BoshTestClient[] = [];

beforeAll(async () => {
  node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b,carol:c,dave:d', LOG_LEVEL: 'silent', WEB_CLIENT: 'false' }));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await node.close();
});

async function login(user: string, resource: string, available = true): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, user[0] as string, resource);
  clients.push(client);
  if (available) client.send(`<presence xmlns='jabber:client'/>`);
  return client;
}

const chat = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;

interface MamAnswer {
  readonly iq: Element;
  /** The forwarded messages' bodies, in the order the results came. */
  readonly bodies: string[];
  readonly ids: string[];
  readonly results: Element[];
  readonly complete: boolean;
  readonly first: string | undefined;
  readonly last: string | undefined;
  readonly count: string | undefined;
}

let queries = 0;

/** A XEP-0313 query of the client's own archive: the results (interim messages) and the iq answer. */
async function mam(client: BoshTestClient, fields: Record<string, string> = {}, rsm = ''): Promise<MamAnswer> {
  const id = `q${++queries}`;
  const form = Object.entries(fields)
    .map(([name, value]) => `<field var='${name}'><value>${value}</value></field>`)
    .join('');
  const x = form ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${form}</x>` : '';
  const set = rsm ? `<set xmlns='${RSM}'>${rsm}</set>` : '';
  const iq = await client.iq(`<iq type='set' id='${id}' xmlns='jabber:client'><query xmlns='${MAM}' queryid='${id}'>${x}${set}</query></iq>`, id);
  // The results come before the answer, in the same stream: all are in the inbox by now.
  const results = client.inbox.filter((e) => e.name === 'message' && e.getChild('result', MAM)?.attrs.queryid === id);
  const forwarded = results.map((r) => r.getChild('result', MAM)?.getChild('forwarded', FORWARD)?.getChild('message'));
  const fin = iq.getChild('fin', MAM);
  const resultSet = fin?.getChild('set', RSM);
  return {
    iq,
    bodies: forwarded.map((m) => m?.getChildText('body') ?? ''),
    ids: results.map((r) => String(r.getChild('result', MAM)?.attrs.id)),
    results,
    complete: fin?.attrs.complete === 'true',
    first: resultSet?.getChildText('first') ?? undefined,
    last: resultSet?.getChildText('last') ?? undefined,
    count: resultSet?.getChildText('count') ?? undefined,
  };
}

describe('XEP-0313 message archive for users (archiving on by default)', () => {
  it('advertises urn:xmpp:mam:2 and #extended on the account', async () => {
    const alice = await login('alice', 'disco', false);
    const info = await alice.iq(
      `<iq type='get' id='info' to='alice@localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      'info',
    );
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining([MAM, `${MAM}#extended`]));
    await alice.terminate();
  });

  it('stamps a live chat with the recipient’s archive id, which both archives return in order', async () => {
    const alice = await login('alice', 'live');
    const bob = await login('bob', 'live');
    const stamped: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      alice.send(`<message to='bob@localhost' type='chat' id='${body}' xmlns='jabber:client'><body>${body}</body></message>`);
      const received = await bob.waitFor(chat(body));
      const stanzaId = received.getChild('stanza-id', SID);
      expect(stanzaId?.attrs.by).toBe('bob@localhost');
      stamped.push(String(stanzaId?.attrs.id));
    }
    const bobs = await mam(bob, { with: 'alice@localhost' });
    expect(bobs.bodies).toEqual(['one', 'two', 'three']);
    expect(bobs.ids).toEqual(stamped);
    expect(bobs.complete).toBe(true);
    expect([bobs.first, bobs.last]).toEqual([stamped[0], stamped[2]]);
    // Each result: from the archive's owner, the original inside with its delay stamp.
    const [first] = bobs.results;
    expect(first?.attrs.from).toBe('bob@localhost');
    const forwarded = first?.getChild('result', MAM)?.getChild('forwarded', FORWARD);
    expect(forwarded?.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(forwarded?.getChild('message')?.attrs.from).toBe('alice@localhost/live');
    const alices = await mam(alice, { with: 'bob@localhost' });
    expect(alices.bodies).toEqual(['one', 'two', 'three']);
    expect(alices.ids).toEqual(stamped);
    await alice.terminate();
    await bob.terminate();
  });

  it('pages forward and backward with RSM, says when a page is the last, and filters by party, time and id', async () => {
    const carol = await login('carol', 'pages');
    const dave = await login('dave', 'pages');
    const sentAt = new Date(Date.now() - 1000).toISOString();
    for (let i = 1; i <= 7; i++) {
      carol.send(`<message to='dave@localhost' type='chat' xmlns='jabber:client'><body>p${i}</body></message>`);
      await dave.waitFor(chat(`p${i}`));
    }
    dave.send(`<message to='carol@localhost' type='normal' xmlns='jabber:client'><body>reply</body></message>`);
    await carol.waitFor(chat('reply'));

    const first = await mam(carol, { with: 'dave@localhost' }, '<max>3</max>');
    expect(first.bodies).toEqual(['p1', 'p2', 'p3']);
    expect(first.complete).toBe(false);
    const second = await mam(carol, { with: 'dave@localhost' }, `<max>3</max><after>${first.last}</after>`);
    expect(second.bodies).toEqual(['p4', 'p5', 'p6']);
    const third = await mam(carol, { with: 'dave@localhost' }, `<max>3</max><after>${second.last}</after>`);
    expect(third.bodies).toEqual(['p7', 'reply']);
    expect(third.complete).toBe(true);

    const latest = await mam(dave, {}, '<max>3</max><before/>');
    expect(latest.bodies).toEqual(['p6', 'p7', 'reply']);
    expect(latest.complete).toBe(false);
    const earlier = await mam(dave, {}, `<max>5</max><before>${latest.first}</before>`);
    expect(earlier.bodies).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(earlier.complete).toBe(true);

    expect((await mam(dave, { 'after-id': String(earlier.ids[3]) })).bodies).toEqual(['p5', 'p6', 'p7', 'reply']);
    expect((await mam(dave, { 'before-id': String(earlier.ids[2]) })).bodies).toEqual(['p1', 'p2']);
    expect((await mam(dave, { start: sentAt })).bodies).toHaveLength(8);
    expect((await mam(dave, { end: sentAt })).bodies).toEqual([]);
    const unknown = await mam(dave, { 'after-id': 'ffffffffff-999' });
    expect(unknown.iq.attrs.type).toBe('error');
    expect(unknown.iq.getChild('error')?.getChild('item-not-found')).toBeDefined();
    const badDate = await mam(dave, { start: 'yesterday' });
    expect(badDate.iq.getChild('error')?.getChild('bad-request')).toBeDefined();
    await carol.terminate();
    await dave.terminate();
  });

  it('archives a message kept for an offline user once, and delivers it later with its stanza-id', async () => {
    const alice = await login('alice', 'offline');
    alice.send(`<message to='carol@localhost' type='chat' xmlns='jabber:client'><body>while you were out</body></message>`);
    // Asked after the message: the answer comes once the message has been routed (and archived).
    const before = await mam(alice, { with: 'carol@localhost' }, '<max>1</max><before/>');
    expect(before.bodies).toEqual(['while you were out']);
    const carol = await login('carol', 'back');
    const delivered = await carol.waitFor(chat('while you were out'));
    expect(delivered.getChild('stanza-id', SID)?.attrs).toMatchObject({ by: 'carol@localhost', id: before.ids[0] });
    const carols = await mam(carol, { with: 'alice@localhost' });
    expect(carols.bodies).toEqual(['while you were out']);
    await alice.terminate();
    await carol.terminate();
  });

  it('archives neither chat states without a body nor bounced messages and their errors, and drops a stanza-id a client forged', async () => {
    const alice = await login('alice', 'states');
    const dave = await login('dave', 'states');
    const before = (await mam(dave, { with: 'alice@localhost' })).bodies.length;
    alice.send(
      `<message to='dave@localhost' type='chat' id='typing' xmlns='jabber:client'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    );
    await dave.waitFor((e) => e.name === 'message' && e.attrs.id === 'typing');
    // A message to no such user bounces: neither it nor the error that answers it is archived.
    const alicesBefore = (await mam(alice, {})).bodies.length;
    alice.send(`<message to='nobody@localhost' type='chat' id='err' xmlns='jabber:client'><body>oops</body></message>`);
    await alice.waitFor((e) => e.name === 'message' && e.attrs.id === 'err' && e.attrs.type === 'error');
    expect((await mam(alice, {})).bodies).toHaveLength(alicesBefore);
    alice.send(
      `<message to='dave@localhost' type='chat' id='forged' xmlns='jabber:client'><body>forged</body><stanza-id xmlns='${SID}' by='dave@localhost' id='fake'/><stanza-id xmlns='${SID}' by='localhost' id='fake2'/></message>`,
    );
    const forged = await dave.waitFor(chat('forged'));
    const ids = forged.getChildren('stanza-id', SID);
    expect(ids).toHaveLength(1);
    expect(ids[0]?.attrs.id).not.toBe('fake');
    const after = await mam(dave, { with: 'alice@localhost' });
    expect(after.bodies.slice(before)).toEqual(['forged']);
    expect(after.ids[after.ids.length - 1]).toBe(ids[0]?.attrs.id);
    await alice.terminate();
    await dave.terminate();
  });

  it('answers the search form, the #extended metadata, and refuses another user’s archive', async () => {
    const bob = await login('bob', 'meta', false);
    const form = await bob.iq(`<iq type='get' id='form' xmlns='jabber:client'><query xmlns='${MAM}'/></iq>`, 'form');
    expect(
      form
        .getChild('query', MAM)
        ?.getChild('x', 'jabber:x:data')
        ?.getChildren('field')
        .map((f) => f.attrs.var),
    ).toEqual(['FORM_TYPE', 'with', 'start', 'end', 'after-id', 'before-id', 'ids']);
    const metadata = await bob.iq(`<iq type='get' id='meta' xmlns='jabber:client'><metadata xmlns='${MAM}'/></iq>`, 'meta');
    const newest = await mam(bob, {}, '<max>1</max><before/>');
    expect(metadata.getChild('metadata', MAM)?.getChild('end')?.attrs.id).toBe(newest.ids[0]);
    const other = await bob.iq(`<iq type='set' id='theirs' to='alice@localhost' xmlns='jabber:client'><query xmlns='${MAM}'/></iq>`, 'theirs');
    expect(other.getChild('error')?.getChild('forbidden')).toBeDefined();
    await bob.terminate();
  });

  it('gives the user’s archive up with the account', async () => {
    const dave = await login('dave', 'removal', false);
    expect((await mam(dave, {})).bodies.length).toBeGreaterThan(0);
    await dave.terminate();
    await node.stores.archive.deleteOwner('nobody@localhost');
    const before = await node.stores.archive.query({ owner: 'dave@localhost', limit: 1 });
    expect('messages' in before && before.messages.length).toBe(1);
    // USERS accounts are read-only: the archive goes with an account the store holds.
    await node.stores.accounts.create('erin', 'e');
    const erin = await login('erin', 'chat');
    erin.send(`<message to='alice@localhost' type='chat' xmlns='jabber:client'><body>bye</body></message>`);
    expect((await mam(erin, {})).bodies).toEqual(['bye']);
    await erin.terminate();
    await node.stores.removeAccount('erin');
    const gone = await node.stores.archive.query({ owner: 'erin@localhost', limit: 10 });
    expect('messages' in gone && gone.messages).toEqual([]);
  });
});

describe('MAM_ENABLED=false', () => {
  let quiet: RunningNode;
  beforeAll(async () => {
    quiet = await startNode(
      loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b', LOG_LEVEL: 'silent', WEB_CLIENT: 'false', MAM_ENABLED: 'false' }),
    );
  });
  afterAll(async () => {
    await quiet.close();
  });

  it('archives no chat, stamps no stanza-id and offers no MAM', async () => {
    const alice = await BoshTestClient.login(quiet.boshUrl, 'alice', 'a', 'off');
    const bob = await BoshTestClient.login(quiet.boshUrl, 'bob', 'b', 'off');
    clients.push(alice, bob);
    bob.send(`<presence xmlns='jabber:client'/>`);
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><body>unarchived</body></message>`);
    const received = await bob.waitFor(chat('unarchived'));
    expect(received.getChild('stanza-id', SID)).toBeUndefined();
    const query = await bob.iq(`<iq type='set' id='q' xmlns='jabber:client'><query xmlns='${MAM}'/></iq>`, 'q');
    expect(query.attrs.type).toBe('error');
    const stored = await quiet.stores.archive.query({ owner: 'bob@localhost', limit: 10 });
    expect('messages' in stored && stored.messages).toEqual([]);
    await alice.terminate();
    await bob.terminate();
  });
});
