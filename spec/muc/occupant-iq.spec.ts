import { Element } from 'ltx';
import { StanzaError } from '../../src/base/stanza-error';
import { MucHarness, SERVICE } from './support/muc-harness';

const ROOM = `lobby@${SERVICE}`;
const ALICE = 'alice@localhost/a';
const BOB = 'bob@localhost/b';
const CAROL = 'carol@localhost/c';
const condition = (answer: Element | StanzaError | undefined) => (answer instanceof StanzaError ? answer.condition : answer?.attrs.type);
const VERSION = `<query xmlns='jabber:iq:version'/>`;

async function roomWithAliceAndBob(options: ConstructorParameters<typeof MucHarness>[0] = {}): Promise<MucHarness> {
  const h = new MucHarness(options);
  await h.create(ALICE, 'lobby', 'al');
  await h.join(BOB, 'lobby', 'bo');
  h.take();
  return h;
}

describe('iqs between occupants (XEP-0045 §6.7 and the IQ business rules: relaying)', () => {
  it('relays an iq to an occupant JID to the occupant’s real full JID from the asker’s occupant JID, and the result back', async () => {
    const h = await roomWithAliceAndBob();
    expect(await h.send(ALICE, `<iq to='${ROOM}/bo' type='get' id='v1'>${VERSION}</iq>`)).toBeUndefined();
    const [relayed] = h.take();
    expect(relayed?.attrs).toMatchObject({ type: 'get', from: `${ROOM}/al`, to: BOB });
    expect(relayed?.attrs.id).not.toBe('v1');
    expect(relayed?.getChild('query', 'jabber:iq:version')).toBeDefined();
    // bob's client answers the room's occupant JID; alice gets it from bob's occupant JID with her own id.
    await h.send(BOB, `<iq to='${ROOM}/al' type='result' id='${String(relayed?.attrs.id)}'><query xmlns='jabber:iq:version'><name>c</name></query></iq>`);
    const [answer] = h.take();
    expect(answer?.attrs).toMatchObject({ type: 'result', id: 'v1', from: `${ROOM}/bo`, to: ALICE });
    expect(answer?.getChild('query')?.getChildText('name')).toBe('c');
  });

  it('relays an error answer too, and a ping to another occupant (XEP-0410 leaves those to the room)', async () => {
    const h = await roomWithAliceAndBob();
    await h.send(BOB, `<iq to='${ROOM}/al' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const [relayed] = h.take();
    expect(relayed?.attrs).toMatchObject({ from: `${ROOM}/bo`, to: ALICE });
    await h.send(
      ALICE,
      `<iq to='${ROOM}/bo' type='error' id='${String(relayed?.attrs.id)}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    const [answer] = h.take();
    expect(answer?.attrs).toMatchObject({ type: 'error', id: 'p1', from: `${ROOM}/al`, to: BOB });
  });

  it('answers vCard requests with the occupant’s stored vCard, as its bare JID would (XEP-0045 business rules, IQ); a vCard set is forbidden', async () => {
    const stored = new Element('vCard', { xmlns: 'vcard-temp' });
    stored.c('FN').t('Bob');
    const asked: string[] = [];
    const h = await roomWithAliceAndBob({
      vcards: async (bare) => {
        asked.push(bare);
        return bare === 'bob@localhost' ? stored : undefined;
      },
    });
    const answer = (await h.iq(ALICE, `${ROOM}/bo`, 'get', `<vCard xmlns='vcard-temp'/>`)) as Element;
    expect(answer.attrs).toMatchObject({ type: 'result', from: `${ROOM}/bo`, to: ALICE });
    expect(answer.getChild('vCard', 'vcard-temp')?.getChildText('FN')).toBe('Bob');
    expect(asked).toEqual(['bob@localhost']);
    const empty = (await h.iq(BOB, `${ROOM}/al`, 'get', `<vCard xmlns='vcard-temp'/>`)) as Element;
    expect(empty.getChild('vCard', 'vcard-temp')?.children).toEqual([]);
    expect(condition(await h.iq(ALICE, `${ROOM}/bo`, 'set', `<vCard xmlns='vcard-temp'><FN>x</FN></vCard>`))).toBe('forbidden');
  });

  it('refuses an unknown nick (item-not-found), a non-occupant (not-acceptable; bad-request for disco, §6.7), a room that does not exist', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.iq(ALICE, `${ROOM}/nobody`, 'get', VERSION))).toBe('item-not-found');
    expect(condition(await h.iq(CAROL, `${ROOM}/bo`, 'get', VERSION))).toBe('not-acceptable');
    expect(condition(await h.iq(CAROL, `${ROOM}/bo`, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`))).toBe('bad-request');
    expect(condition(await h.iq(ALICE, `nowhere@${SERVICE}/bo`, 'get', VERSION))).toBe('item-not-found');
    expect(h.take().filter((s) => s.attrs.to === BOB)).toEqual([]);
  });

  it('passes on an answer only from the occupant the iq went to, and drops answers to nothing it relayed', async () => {
    const h = await roomWithAliceAndBob();
    await h.join(CAROL, 'lobby', 'ca');
    await h.send(ALICE, `<iq to='${ROOM}/bo' type='get' id='v2'>${VERSION}</iq>`);
    const relayedId = String(h.take().find((s) => s.name === 'iq')?.attrs.id);
    // carol answers in bob's name: dropped.
    await h.send(CAROL, `<iq to='${ROOM}/al' type='result' id='${relayedId}'>${VERSION}</iq>`);
    // An answer whose id the room never made, and one whose id is not even well-formed: dropped.
    await h.send(BOB, `<iq to='${ROOM}/al' type='result' id='v2'/>`);
    await h.send(BOB, `<iq to='${ROOM}/al' type='result' id='muc-iq.!!!'/>`);
    expect(h.take()).toEqual([]);
  });

  it('keeps the self-ping (XEP-0410): result to one’s own occupant JID, nothing relayed', async () => {
    const h = await roomWithAliceAndBob();
    expect(condition(await h.iq(BOB, `${ROOM}/bo`, 'get', `<ping xmlns='urn:xmpp:ping'/>`))).toBe('result');
    expect(h.take().filter((s) => s.attrs.type === 'get')).toEqual([]);
  });
});
