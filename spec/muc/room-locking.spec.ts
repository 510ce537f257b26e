import type { Element } from 'ltx';
import { StanzaError } from '../../src/base/stanza-error';
import { INSTANT_ROOM, itemOf, MucHarness, SERVICE, statusCodes } from './support/muc-harness';

const ROOM = `fresh@${SERVICE}`;
const ALICE = 'alice@localhost/a';
const BOB = 'bob@localhost/b';
const condition = (answer: Element | StanzaError | undefined) => (answer instanceof StanzaError ? answer.condition : answer?.attrs.type);
const OWNER = 'http://jabber.org/protocol/muc#owner';
const disco = (h: MucHarness, user: string, to: string, what: 'info' | 'items') =>
  h.iq(user, to, 'get', `<query xmlns='http://jabber.org/protocol/disco#${what}'/>`);

describe('a room created by entering it is locked until configured (XEP-0045 §10.1.1)', () => {
  it('§10.1.1: the creator gets 201 and 110 as owner and moderator; the room is locked', async () => {
    const h = new MucHarness();
    expect(await h.join(ALICE, 'fresh', 'al')).toBeUndefined();
    const self = h.to(ALICE)[0] as Element;
    expect(statusCodes(self)).toEqual(expect.arrayContaining(['110', '201']));
    expect(itemOf(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    expect((await h.rooms.room('fresh'))?.config.locked).toBe(true);
  });

  it('§7.2.11: anyone else entering a locked room gets item-not-found, even with the owner’s nick; it is not in disco', async () => {
    const h = new MucHarness();
    await h.join(ALICE, 'fresh', 'al');
    expect(condition(await h.join(BOB, 'fresh', 'bo'))).toBe('item-not-found');
    expect(condition(await h.join(BOB, 'fresh', 'al'))).toBe('item-not-found');
    expect((await h.rooms.occupants('fresh')).map((o) => o.nick)).toEqual(['al']);
    expect(condition(await disco(h, BOB, ROOM, 'info'))).toBe('item-not-found');
    const items = (await disco(h, BOB, SERVICE, 'items')) as Element;
    expect(items.getChild('query')?.getChildren('item')).toEqual([]);
    // The owner sees it, and may enter it from another resource.
    expect(condition(await disco(h, ALICE, ROOM, 'info'))).toBe('result');
    expect(await h.join('alice@localhost/other', 'fresh', 'al2')).toBeUndefined();
  });

  it('§10.1.2: an empty submitted form (instant room) unlocks it with the defaults, without a 104 to the owner', async () => {
    const h = new MucHarness();
    await h.join(ALICE, 'fresh', 'al');
    h.take();
    expect(condition(await h.iq(ALICE, ROOM, 'set', INSTANT_ROOM))).toBe('result');
    expect(h.to(ALICE).filter((s) => s.name === 'message')).toEqual([]);
    expect((await h.rooms.room('fresh'))?.config).toMatchObject({ locked: false, persistent: false, membersOnly: false });
    expect(await h.join(BOB, 'fresh', 'bo')).toBeUndefined();
  });

  it('§10.1.3: a reserved room — the owner gets the form while locked, and submitting it unlocks the room', async () => {
    const h = new MucHarness();
    await h.join(ALICE, 'fresh', 'al');
    const form = (await h.iq(ALICE, ROOM, 'get', `<query xmlns='${OWNER}'/>`)) as Element;
    expect(form.getChild('query')?.getChild('x', 'jabber:x:data')?.attrs.type).toBe('form');
    expect(condition(await h.join(BOB, 'fresh', 'bo'))).toBe('item-not-found');
    const submit = `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_roomname'><value>Fresh</value></field></x>`;
    expect(condition(await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'>${submit}</query>`))).toBe('result');
    expect((await h.rooms.room('fresh'))?.config).toMatchObject({ locked: false, name: 'Fresh' });
    expect(await h.join(BOB, 'fresh', 'bo')).toBeUndefined();
  });

  it('§10.1.3: cancelling the initial configuration destroys the room, and the owner hears it is gone', async () => {
    const h = new MucHarness();
    await h.join(ALICE, 'fresh', 'al');
    h.take();
    expect(condition(await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query>`))).toBe('result');
    expect(await h.rooms.room('fresh')).toBeUndefined();
    const gone = h.to(ALICE).find((s) => s.name === 'presence');
    expect(gone?.attrs.type).toBe('unavailable');
    expect(gone?.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('destroy')).toBeDefined();
  });

  it('a cancel on a room already unlocked changes nothing', async () => {
    const h = new MucHarness();
    await h.create(ALICE, 'fresh', 'al');
    await h.iq(ALICE, ROOM, 'set', `<query xmlns='${OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query>`);
    expect((await h.rooms.room('fresh'))?.config.locked).toBe(false);
  });

  it('with lockNewRooms off (MUC_LOCK_NEW_ROOMS=false) a new room is open at once, still with 201', async () => {
    const h = new MucHarness({ lockNewRooms: false });
    await h.join(ALICE, 'fresh', 'al');
    expect(statusCodes(h.to(ALICE)[0] as Element)).toContain('201');
    expect(await h.join(BOB, 'fresh', 'bo')).toBeUndefined();
  });

  it('rooms created in the store (the groups of the business API) are never locked, whatever the service defaults say', async () => {
    const h = new MucHarness({ defaults: { locked: true } });
    const group = await h.muc.groups.create('crew', { name: 'Crew', members: ['bob@localhost'] });
    expect(group?.id).toBe('crew');
    expect((await h.rooms.room('crew'))?.config.locked).toBe(false);
    expect(await h.join(BOB, 'crew', 'bo')).toBeUndefined();
  });
});
