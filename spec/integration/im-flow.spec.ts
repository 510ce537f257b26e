import type { Element } from 'ltx';
import { startNode, type RunningNode } from '../../src/app';
import { loadConfig } from '../../src/config';
import { BoshTestClient } from '../support/bosh-client';

const ROSTER = 'jabber:iq:roster';

let node: RunningNode;
const clients: BoshTestClient[] = [];

beforeAll(async () => {
  node = await startNode(loadConfig({ PORT: '0', STORAGE: 'memory', USERS: 'alice:a,bob:b,carol:c,dave:d', LOG_LEVEL: 'silent', OFFLINE_LIMIT: '3' }));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await node.close();
});

async function login(user: string, password: string, resource?: string): Promise<BoshTestClient> {
  const client = await BoshTestClient.login(node.boshUrl, user, password, resource);
  clients.push(client);
  return client;
}

const presenceFrom = (from: string, type?: string) => (e: Element) => e.name === 'presence' && String(e.attrs.from).startsWith(from) && e.attrs.type === type;
const rosterPush = (jid: string, subscription: string, ask?: string) => (e: Element) => {
  const item = e.name === 'iq' && e.attrs.type === 'set' ? e.getChild('query', ROSTER)?.getChild('item') : undefined;
  return item !== undefined && item.attrs.jid === jid && item.attrs.subscription === subscription && item.attrs.ask === ask;
};
const chat = (body: string) => (e: Element) => e.name === 'message' && e.getChildText('body') === body;

describe('RFC 6121: two users subscribe, see each other online, chat, and get offline messages', () => {
  let alice: BoshTestClient;
  let bob: BoshTestClient;

  it('RFC 6121 §2.2: a new user gets an empty roster, with the version when asked', async () => {
    alice = await login('alice', 'a', 'web');
    bob = await login('bob', 'b', 'web');
    const roster = await alice.iq(`<iq type='get' id='r1' xmlns='jabber:client'><query xmlns='${ROSTER}' ver=''/></iq>`, 'r1');
    expect(roster.attrs.type).toBe('result');
    expect(roster.getChild('query', ROSTER)?.attrs.ver).toBe('0');
    await bob.iq(`<iq type='get' id='r1' xmlns='jabber:client'><query xmlns='${ROSTER}'/></iq>`, 'r1');
    alice.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence xmlns='jabber:client'/>`);
  });

  it('RFC 6121 §3.1: a subscription request is pushed as ask=subscribe and reaches the contact', async () => {
    alice.send(`<presence to='bob@localhost' type='subscribe' xmlns='jabber:client'/>`);
    await alice.waitFor(rosterPush('bob@localhost', 'none', 'subscribe'));
    const request = await bob.waitFor(presenceFrom('alice@localhost', 'subscribe'));
    expect(request.attrs.from).toBe('alice@localhost');
  });

  it('RFC 6121 §3.1.5: approval updates both rosters and delivers the contact presence', async () => {
    bob.send(`<presence to='alice@localhost' type='subscribed' xmlns='jabber:client'/>`);
    await bob.waitFor(rosterPush('alice@localhost', 'from'));
    await alice.waitFor(rosterPush('bob@localhost', 'to'));
    await alice.waitFor(presenceFrom('alice@localhost'.replace('alice', 'bob'), 'subscribed'));
    const online = await alice.waitFor(presenceFrom('bob@localhost/web'));
    expect(online.attrs.to).toBe(alice.jid);
  });

  it('RFC 6121 §3: the reverse subscription makes it mutual (both)', async () => {
    bob.send(`<presence to='alice@localhost' type='subscribe' xmlns='jabber:client'/>`);
    await alice.waitFor(presenceFrom('bob@localhost', 'subscribe'));
    alice.send(`<presence to='bob@localhost' type='subscribed' xmlns='jabber:client'/>`);
    await alice.waitFor(rosterPush('bob@localhost', 'both'));
    await bob.waitFor(rosterPush('alice@localhost', 'both'));
    await bob.waitFor(presenceFrom('alice@localhost/web'));
    const roster = await alice.iq(`<iq type='get' id='r2' xmlns='jabber:client'><query xmlns='${ROSTER}'/></iq>`, 'r2');
    const item = roster.getChild('query', ROSTER)?.getChild('item');
    expect(item?.attrs).toMatchObject({ jid: 'bob@localhost', subscription: 'both' });
  });

  it('RFC 6121 §8.5.2: a chat to the bare JID reaches the available resource, from the full JID', async () => {
    alice.send(`<message to='bob@localhost' type='chat' id='m1' xmlns='jabber:client'><body>hello bob</body></message>`);
    const message = await bob.waitFor(chat('hello bob'));
    expect(message.attrs.from).toBe(alice.jid);
    bob.send(`<message to='${alice.jid}' type='chat' xmlns='jabber:client'><body>hi alice</body></message>`);
    expect((await alice.waitFor(chat('hi alice'))).attrs.from).toBe(bob.jid);
  });

  it('RFC 6121 §4.5: contacts hear unavailable when a session ends', async () => {
    await bob.terminate();
    await alice.waitFor(presenceFrom('bob@localhost/web', 'unavailable'));
  });

  it('XEP-0160: a message to an offline user is stored and delivered with a delay stamp at login', async () => {
    alice.send(`<message to='bob@localhost' type='chat' id='off1' xmlns='jabber:client'><body>while you were away</body></message>`);
    // Chat states alone are not stored (and not bounced).
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    // alice's stanzas are handled in order: once her ping is answered, both messages have been dealt with.
    await alice.iq(`<iq type='get' id='after-offline' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, 'after-offline');
    expect(await node.xmpp.services.offline.count('bob')).toBe(1);
    bob = await login('bob', 'b', 'web');
    bob.send(`<presence xmlns='jabber:client'/>`);
    const stored = await bob.waitFor(chat('while you were away'));
    expect(stored.attrs.from).toBe(alice.jid);
    expect(stored.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(bob.inbox.filter((e) => e.name === 'message')).toHaveLength(1);
    // Login also brings the contacts' presence (RFC 6121 §4.2.2 probes).
    await bob.waitFor(presenceFrom('alice@localhost/web'));
  });

  it('XEP-0160 §3: a full offline queue answers the sender with service-unavailable', async () => {
    const dave = await login('dave', 'd', 'web');
    for (let i = 0; i < 4; i++) dave.send(`<message to='carol@localhost' id='q${i}' type='chat' xmlns='jabber:client'><body>${i}</body></message>`);
    const error = await dave.waitFor((e) => e.name === 'message' && e.attrs.type === 'error' && e.attrs.id === 'q3');
    expect(error.getChild('error')?.getChild('service-unavailable')).toBeDefined();
    expect(dave.inbox.filter((e) => e.attrs.type === 'error')).toHaveLength(1);
  });

  it('RFC 6121 §3.1.3: a request to an offline user waits and is delivered at their next login', async () => {
    const carol0 = await login('carol', 'c', 'x');
    await carol0.terminate();
    alice.send(`<presence to='carol@localhost' type='subscribe' xmlns='jabber:client'/>`);
    await alice.waitFor(rosterPush('carol@localhost', 'none', 'subscribe'));
    const carol = await login('carol', 'c', 'phone');
    carol.send(`<presence xmlns='jabber:client'/>`);
    await carol.waitFor(presenceFrom('alice@localhost', 'subscribe'));
    // carol's three stored messages from dave arrive too.
    await carol.waitFor(chat('2'));
  });

  it('XEP-0280: carbons copy received and sent chats to the other resources of the user', async () => {
    const tab2 = await login('alice', 'a', 'tab2');
    tab2.send(`<presence xmlns='jabber:client'/>`);
    const enabled = await tab2.iq(`<iq type='set' id='c1' xmlns='jabber:client'><enable xmlns='urn:xmpp:carbons:2'/></iq>`, 'c1');
    expect(enabled.attrs.type).toBe('result');
    bob.send(`<message to='${alice.jid}' type='chat' xmlns='jabber:client'><body>to tab one</body></message>`);
    await alice.waitFor(chat('to tab one'));
    const received = await tab2.waitFor((e) => e.getChild('received', 'urn:xmpp:carbons:2') !== undefined);
    expect(received.attrs.from).toBe('alice@localhost');
    expect(received.getChild('received')?.getChild('forwarded')?.getChild('message')?.getChildText('body')).toBe('to tab one');
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><body>sent from tab one</body></message>`);
    const sent = await tab2.waitFor((e) => e.getChild('sent', 'urn:xmpp:carbons:2') !== undefined);
    expect(sent.getChild('sent')?.getChild('forwarded')?.getChild('message')?.attrs.to).toBe('bob@localhost');
    // A private message is not copied.
    alice.send(`<message to='bob@localhost' type='chat' xmlns='jabber:client'><body>secret</body><private xmlns='urn:xmpp:carbons:2'/></message>`);
    await bob.waitFor(chat('secret'));
    expect(tab2.inbox.some((e) => e.toString().includes('secret'))).toBe(false);
  });
});

describe('service discovery, vCard and private storage (XEP-0030, XEP-0054, XEP-0049)', () => {
  it('describes the server and accounts with the features actually served', async () => {
    const client = await login('dave', 'd', 'disco');
    const info = await client.iq(
      `<iq type='get' id='d1' to='localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      'd1',
    );
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var);
    expect(info.getChild('query')?.getChild('identity')?.attrs).toMatchObject({ category: 'server', type: 'im' });
    expect(features).toEqual(expect.arrayContaining(['urn:xmpp:ping', 'urn:xmpp:carbons:2', 'vcard-temp', 'jabber:iq:version', 'urn:xmpp:time']));
    const account = await client.iq(
      `<iq type='get' id='d2' to='alice@localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      'd2',
    );
    expect(account.getChild('query')?.getChild('identity')?.attrs).toMatchObject({ category: 'account', type: 'registered' });
    const missing = await client.iq(
      `<iq type='get' id='d3' to='nobody@localhost' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      'd3',
    );
    expect(missing.attrs.type).toBe('error');
  });

  it('stores one own vCard and serves it to others; refuses to set someone else’s', async () => {
    const dave = await login('dave', 'd', 'vcard');
    const set = await dave.iq(`<iq type='set' id='v1' xmlns='jabber:client'><vCard xmlns='vcard-temp'><FN>Dave</FN></vCard></iq>`, 'v1');
    expect(set.attrs.type).toBe('result');
    const alice = await login('alice', 'a', 'vc');
    const got = await alice.iq(`<iq type='get' id='v2' to='dave@localhost' xmlns='jabber:client'><vCard xmlns='vcard-temp'/></iq>`, 'v2');
    expect(got.getChild('vCard', 'vcard-temp')?.getChildText('FN')).toBe('Dave');
    const empty = await alice.iq(`<iq type='get' id='v3' to='carol@localhost' xmlns='jabber:client'><vCard xmlns='vcard-temp'/></iq>`, 'v3');
    expect(empty.getChild('vCard', 'vcard-temp')).toBeDefined();
    const forbidden = await alice.iq(
      `<iq type='set' id='v4' to='dave@localhost' xmlns='jabber:client'><vCard xmlns='vcard-temp'><FN>x</FN></vCard></iq>`,
      'v4',
    );
    expect(forbidden.getChild('error')?.getChild('forbidden')).toBeDefined();
  });

  it('keeps private XML (bookmarks) per user', async () => {
    const dave = await login('dave', 'd', 'priv');
    const store = `<iq type='set' id='p1' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='room@conference.localhost' autojoin='true'/></storage></query></iq>`;
    expect((await dave.iq(store, 'p1')).attrs.type).toBe('result');
    const got = await dave.iq(
      `<iq type='get' id='p2' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
      'p2',
    );
    expect(got.getChild('query')?.getChild('storage')?.getChild('conference')?.attrs.jid).toBe('room@conference.localhost');
    const carol = await login('carol', 'c', 'priv');
    const other = await carol.iq(
      `<iq type='get' id='p3' xmlns='jabber:client'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
      'p3',
    );
    expect(other.getChild('query')?.getChild('storage')?.children).toHaveLength(0);
  });
});
