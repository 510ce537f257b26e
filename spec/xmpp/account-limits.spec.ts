import { quiesce, stanzaErrorOf, World, type Client } from './support/actor-harness';

const NS_PRIVATE = 'jabber:iq:private';

function privateSet(id: string, name: string, inner = ''): string {
  return `<iq type='set' id='${id}'><query xmlns='${NS_PRIVATE}'><${name} xmlns='urn:test:${name}'>${inner}</${name}></query></iq>`;
}

function privateGet(id: string, name: string): string {
  return `<iq type='get' id='${id}'><query xmlns='${NS_PRIVATE}'><${name} xmlns='urn:test:${name}'/></query></iq>`;
}

async function expectResult(client: Client, iq: string): Promise<void> {
  const answer = await client.iq(iq);
  expect(answer.attrs.type).toBe('result');
}

describe('private XML storage is bounded per account (XEP-0049; PRIVATE_XML_MAX_KEYS, PRIVATE_XML_MAX_BYTES)', () => {
  it('refuses a new item beyond the number of items with policy-violation, and still replaces an existing one', async () => {
    const world = await World.with({ alice: 'a' }, { accountLimits: { privateXmlKeys: 2 } });
    const alice = await world.login('alice', 'a', 'web');
    await expectResult(alice, privateSet('s1', 'one'));
    await expectResult(alice, privateSet('s2', 'two'));

    const refused = await alice.iq(privateSet('s3', 'three'));
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'policy-violation' });
    await expectResult(alice, privateSet('s4', 'two', '<v>replaced</v>'));

    const stored = await alice.iq(privateGet('g1', 'two'));
    expect(stored.getChild('query')?.getChild('two')?.getChildText('v')).toBe('replaced');
    const never = await alice.iq(privateGet('g2', 'three'));
    expect(never.getChild('query')?.getChild('three')?.children).toEqual([]);
    expect(alice.output.closed).toBe(false);
  });

  it('refuses an item larger than the byte limit with not-acceptable and stores nothing of that request', async () => {
    const world = await World.with({ alice: 'a' }, { accountLimits: { privateXmlItemBytes: 200 } });
    const alice = await world.login('alice', 'a', 'web');
    const refused = await alice.iq(privateSet('big', 'notes', `<v>${'x'.repeat(300)}</v>`));
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'not-acceptable' });
    const stored = await alice.iq(privateGet('g', 'notes'));
    expect(stored.getChild('query')?.getChild('notes')?.children).toEqual([]);
    await expectResult(alice, privateSet('small', 'notes', '<v>fits</v>'));
  });
});

describe('the vCard is bounded in size (XEP-0054; VCARD_MAX_BYTES)', () => {
  it('refuses a vCard over the limit with not-acceptable and keeps the previous one', async () => {
    const world = await World.with({ alice: 'a' }, { accountLimits: { vcardBytes: 300 } });
    const alice = await world.login('alice', 'a', 'web');
    await expectResult(alice, "<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>");
    const refused = await alice.iq(`<iq type='set' id='v2'><vCard xmlns='vcard-temp'><FN>Alice</FN><DESC>${'y'.repeat(400)}</DESC></vCard></iq>`);
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'not-acceptable' });
    const stored = await alice.iq("<iq type='get' id='v3'><vCard xmlns='vcard-temp'/></iq>");
    expect(stored.getChild('vCard')?.getChildText('FN')).toBe('Alice');
    expect(stored.getChild('vCard')?.getChild('DESC')).toBeUndefined();
  });
});

describe('rosters are bounded in items (RFC 6121 §2; ROSTER_MAX_ITEMS)', () => {
  function rosterSet(id: string, jid: string, name = ''): string {
    return `<iq type='set' id='${id}'><query xmlns='jabber:iq:roster'><item jid='${jid}' name='${name}'/></query></iq>`;
  }

  it('refuses a new contact beyond the limit with policy-violation, and still updates or removes existing ones', async () => {
    const world = await World.with({ alice: 'a' }, { accountLimits: { rosterItems: 2 } });
    const alice = await world.login('alice', 'a', 'web');
    await expectResult(alice, rosterSet('r1', 'bob@localhost'));
    await expectResult(alice, rosterSet('r2', 'carol@localhost'));

    const refused = await alice.iq(rosterSet('r3', 'dave@localhost'));
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'policy-violation' });
    await expectResult(alice, rosterSet('r4', 'bob@localhost', 'Bobby'));
    await expectResult(alice, "<iq type='set' id='r5'><query xmlns='jabber:iq:roster'><item jid='carol@localhost' subscription='remove'/></query></iq>");
    await expectResult(alice, rosterSet('r6', 'dave@localhost'));

    const roster = await alice.iq("<iq type='get' id='r7'><query xmlns='jabber:iq:roster'/></iq>");
    expect(
      roster
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['bob@localhost', 'dave@localhost']);
  });

  it('answers a subscription request that would add a contact to a full roster with policy-violation, and sends nothing on', async () => {
    const world = await World.with({ alice: 'a', bob: 'b', carol: 'c' }, { accountLimits: { rosterItems: 1 } });
    const alice = await world.login('alice', 'a', 'web');
    const carol = await world.login('carol', 'c', 'web');
    carol.send('<presence/>');
    await expectResult(alice, rosterSet('r1', 'bob@localhost'));

    alice.send("<presence type='subscribe' to='carol@localhost' id='sub1'/>");
    const refused = await alice.next((e) => e.name === 'presence' && e.attrs.type === 'error', 'the refused subscription');
    expect(stanzaErrorOf(refused)).toEqual({ type: 'modify', condition: 'policy-violation' });
    await quiesce();
    expect(carol.drain().filter((e) => e.name === 'presence' && e.attrs.type === 'subscribe')).toEqual([]);
  });
});

describe('offline storage is bounded in bytes per account (XEP-0160; OFFLINE_MAX_BYTES)', () => {
  it('bounces the message that would pass the byte limit to its sender with service-unavailable, and hands over the ones kept', async () => {
    const world = await World.with({ alice: 'a', bob: 'b' }, { offlineBytesPerUser: 600 });
    const alice = await world.login('alice', 'a', 'web');
    const body = 'z'.repeat(150);
    for (let i = 1; i <= 3; i++) alice.send(`<message to='bob@localhost' type='chat' id='o${i}'><body>${i}${body}</body></message>`);
    const bounced = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error', 'the bounced message');
    expect(bounced.attrs.id).toBe('o3');
    expect(stanzaErrorOf(bounced)).toEqual({ type: 'cancel', condition: 'service-unavailable' });

    const bob = await world.login('bob', 'b', 'web');
    bob.send('<presence/>');
    const first = await bob.next((e) => e.name === 'message', 'the first stored message');
    const second = await bob.next((e) => e.name === 'message', 'the second stored message');
    expect([first.attrs.id, second.attrs.id]).toEqual(['o1', 'o2']);
    await quiesce();
    expect(bob.drain().filter((e) => e.name === 'message')).toEqual([]);
  });
});
