/**
 * End-to-end: StanzaJS 12 (its Node build, BOSH over fetch()) in a room of the MUC service
 * (XEP-0045) on one gateway node: joinRoom creates the room, configureRoom submits the owner's form,
 * groupchat goes both ways with a second user (the test's strict BOSH client), searchHistory
 * (XEP-0313) reads the room's archive in order, and StanzaJS answers a disco#info query the room relays
 * to it from the other user's occupant JID.
 */
import type { Element } from 'ltx';
import type * as XMPP from 'stanza';
import { BoshTestClient } from '../support/bosh-client';
import { startGateway, TEST_DOMAIN, TEST_PASSWORD, type RunningGateway } from './support/gateway';
import { StanzaClient } from './support/stanza-client';

const ROOM = `lounge@conference.${TEST_DOMAIN}`;
const MUC_USER = 'http://jabber.org/protocol/muc#user';

let gateway: RunningGateway;
let alice: StanzaClient;
let bob: BoshTestClient;
const groupchats: XMPP.Stanzas.ReceivedMessage[] = [];

beforeAll(async () => {
  gateway = await startGateway();
  alice = new StanzaClient('alice', gateway.boshUrl, `alice@${TEST_DOMAIN}`, TEST_PASSWORD);
  alice.agent.on('groupchat', (message) => void groupchats.push(message));
  await alice.start();
  bob = await BoshTestClient.login(gateway.boshUrl, 'bob', TEST_PASSWORD, 'strict');
});

afterAll(async () => {
  await alice?.stop();
  bob?.destroy();
  await gateway?.close();
});

/** Resolves once StanzaJS has passed on a groupchat with this body. */
function groupchat(body: string, timeoutMs = 5000): Promise<XMPP.Stanzas.ReceivedMessage> {
  return new Promise((resolve, reject) => {
    const found = groupchats.find((m) => m.body === body);
    if (found) return resolve(found);
    const timer = setTimeout(() => reject(new Error(`no groupchat '${body}'\n${alice.dump()}`)), timeoutMs);
    const listener = (message: XMPP.Stanzas.ReceivedMessage): void => {
      if (message.body !== body) return;
      clearTimeout(timer);
      alice.agent.off('groupchat', listener);
      resolve(message);
    };
    alice.agent.on('groupchat', listener);
  });
}

describe('StanzaJS 12 in a room of the MUC service', () => {
  it('joins (creating the room, as its owner), configures it, and exchanges groupchat with another user', async () => {
    alice.agent.sendPresence();
    const joined = await alice.agent.joinRoom(ROOM, 'alice');
    expect(joined.muc?.affiliation).toBe('owner');
    expect(joined.muc?.statusCodes).toEqual(expect.arrayContaining(['110', '201']));

    const form = await alice.agent.getRoomConfig(ROOM);
    expect(form.fields?.map((f) => f.name)).toEqual(expect.arrayContaining(['muc#roomconfig_roomname', 'muc#roomconfig_persistentroom']));
    await alice.agent.configureRoom(ROOM, {
      type: 'submit',
      fields: [
        { name: 'FORM_TYPE', value: 'http://jabber.org/protocol/muc#roomconfig' },
        { name: 'muc#roomconfig_roomname', value: 'Lounge' },
        { name: 'muc#roomconfig_persistentroom', value: true },
      ],
    });
    expect((await gateway.stores.rooms.room('lounge'))?.config).toMatchObject({ name: 'Lounge', persistent: true });

    bob.send(`<presence xmlns='jabber:client'/>`);
    bob.send(`<presence to='${ROOM}/bob' xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    await bob.waitFor((e: Element) => e.name === 'message' && e.attrs.from === ROOM && e.getChild('subject') !== undefined, 5000, 'the subject');

    alice.agent.sendMessage({ to: ROOM, type: 'groupchat', body: 'hello from StanzaJS' });
    const atBob = await bob.waitFor((e: Element) => e.name === 'message' && e.getChildText('body') === 'hello from StanzaJS', 5000, 'alice’s groupchat');
    expect(atBob.attrs.from).toBe(`${ROOM}/alice`);

    bob.send(`<message to='${ROOM}' type='groupchat' xmlns='jabber:client'><body>hello from bob</body></message>`);
    const atAlice = await groupchat('hello from bob');
    expect(atAlice.from).toBe(`${ROOM}/bob`);
    // Its own message comes back to StanzaJS from the room, as every occupant's does (XEP-0045 §7.4).
    await groupchat('hello from StanzaJS');
    expect(bob.inbox.some((e) => e.name === 'presence' && e.getChild('x', MUC_USER) !== undefined && e.attrs.from === `${ROOM}/alice`)).toBe(true);
  });

  it('reads the room’s archive with searchHistory, oldest first', async () => {
    const fin = await alice.agent.searchHistory(ROOM, {});
    expect(fin.complete).toBe(true);
    const bodies = fin.results?.map((r) => r.item.message?.body);
    expect(bodies).toEqual(['hello from StanzaJS', 'hello from bob']);
  });

  it('answers, through the room, a disco#info query bob sends to its occupant JID (iq relayed both ways, XEP-0045 §6.7)', async () => {
    bob.send(`<iq type='get' id='occupant-disco' to='${ROOM}/alice' xmlns='jabber:client'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const answer = await bob.waitFor((e: Element) => e.name === 'iq' && e.attrs.id === 'occupant-disco', 5000, 'the relayed answer');
    expect(answer.attrs).toMatchObject({ type: 'result', from: `${ROOM}/alice` });
    const features = answer
      .getChild('query', 'http://jabber.org/protocol/disco#info')
      ?.getChildren('feature')
      .map((f) => f.attrs.var);
    // StanzaJS itself answered (it speaks MUC); alice's real JID is nowhere in what bob got.
    expect(features).toContain('http://jabber.org/protocol/muc');
    expect(answer.toString()).not.toContain(`alice@${TEST_DOMAIN}`);
  });
});
