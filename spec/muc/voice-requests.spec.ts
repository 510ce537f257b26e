import type { Element } from 'ltx';
import { StanzaError } from '../../src/base/stanza-error';
import { itemOf, MucHarness, SERVICE } from './support/muc-harness';

const ROOM = `stage@${SERVICE}`;
const ALICE = 'alice@localhost/a';
const BOB = 'bob@localhost/b';
const CAROL = 'carol@localhost/c';
const DATA = 'jabber:x:data';
const condition = (answer: Element | StanzaError | undefined) => (answer instanceof StanzaError ? answer.condition : answer?.attrs.type);
const REQUEST = `<message to='${ROOM}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role' type='list-single'><value>participant</value></field></x></message>`;
const answer = (nick: string, allow: string, jid?: string) =>
  `<message to='${ROOM}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field>${jid ? `<field var='muc#jid'><value>${jid}</value></field>` : ''}<field var='muc#roomnick'><value>${nick}</value></field><field var='muc#request_allow'><value>${allow}</value></field></x></message>`;
const field = (form: Element | undefined, name: string) =>
  form
    ?.getChildren('field')
    .find((f) => f.attrs.var === name)
    ?.getChildText('value');

/** A moderated room (muc#roomconfig_moderatedroom) with alice (owner, moderator) and bob, a visitor. */
async function moderatedRoom(): Promise<MucHarness> {
  const h = new MucHarness();
  await h.create(ALICE, 'stage', 'al');
  const form = `<x xmlns='${DATA}' type='submit'><field var='muc#roomconfig_moderatedroom'><value>1</value></field></x>`;
  await h.iq(ALICE, ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#owner'>${form}</query>`);
  await h.join(BOB, 'stage', 'bo');
  h.take();
  return h;
}

describe('voice requests in a moderated room (XEP-0045 §7.13, §8.6)', () => {
  it('§7.13: a visitor may not speak, asks for voice, and every moderator gets the approval form (§8.6) from the room', async () => {
    const h = await moderatedRoom();
    expect((await h.rooms.occupants('stage')).find((o) => o.nick === 'bo')?.role).toBe('visitor');
    expect(condition(await h.say(BOB, 'stage', 'hello?'))).toBe('forbidden');
    expect(await h.send(BOB, REQUEST)).toBeUndefined();
    const [request] = h.to(ALICE);
    expect(request?.attrs.from).toBe(ROOM);
    const form = request?.getChild('x', DATA);
    expect(form?.attrs.type).toBe('form');
    expect(field(form, 'FORM_TYPE')).toBe('http://jabber.org/protocol/muc#request');
    expect(field(form, 'muc#role')).toBe('participant');
    expect(field(form, 'muc#jid')).toBe(BOB);
    expect(field(form, 'muc#roomnick')).toBe('bo');
    expect(field(form, 'muc#request_allow')).toBe('false');
    expect(h.to(BOB)).toEqual([]);
  });

  it('§8.6: the moderator’s approval makes the visitor a participant, told to everyone, and it may speak', async () => {
    const h = await moderatedRoom();
    await h.send(BOB, REQUEST);
    h.take();
    expect(await h.send(ALICE, answer('bo', 'true', BOB))).toBeUndefined();
    for (const jid of [ALICE, BOB]) {
      const presence = h.to(jid).find((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/bo`) as Element;
      expect(itemOf(presence)?.attrs.role).toBe('participant');
    }
    expect((await h.rooms.occupants('stage')).find((o) => o.nick === 'bo')?.role).toBe('participant');
    expect(await h.say(BOB, 'stage', 'thanks')).toBeUndefined();
  });

  it('§8.6: a denial (muc#request_allow false) changes nothing', async () => {
    const h = await moderatedRoom();
    await h.send(BOB, REQUEST);
    h.take();
    expect(await h.send(ALICE, answer('bo', 'false'))).toBeUndefined();
    expect(h.take()).toEqual([]);
    expect((await h.rooms.occupants('stage')).find((o) => o.nick === 'bo')?.role).toBe('visitor');
  });

  it('refuses an approval from a non-moderator, for an unknown nick or a JID that no longer holds it, and a request from a participant', async () => {
    const h = await moderatedRoom();
    await h.rooms.setAffiliation('stage', 'carol@localhost', 'member');
    await h.join(CAROL, 'stage', 'ca');
    expect(condition(await h.send(CAROL, answer('bo', 'true')))).toBe('not-allowed');
    expect(condition(await h.send(ALICE, answer('nobody', 'true')))).toBe('item-not-found');
    expect(condition(await h.send(ALICE, answer('bo', 'true', 'mallory@localhost/m')))).toBe('item-not-found');
    expect(condition(await h.send(ALICE, answer('bo', 'maybe')))).toBe('bad-request');
    expect(condition(await h.send(CAROL, REQUEST))).toBe('not-acceptable');
    expect(condition(await h.send('dave@localhost/d', REQUEST))).toBe('not-acceptable');
    expect((await h.rooms.occupants('stage')).find((o) => o.nick === 'bo')?.role).toBe('visitor');
  });

  it('§10.2: muc#roomconfig_moderatedroom is in the form, and the room advertises muc#request and muc_moderated', async () => {
    const h = await moderatedRoom();
    const info = (await h.iq(BOB, ROOM, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`)) as Element;
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['muc_moderated', 'http://jabber.org/protocol/muc#request']));
  });
});
