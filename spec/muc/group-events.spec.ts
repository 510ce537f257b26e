import { EventHub, type GatewayEvents } from '../../src/events';
import { MucHarness, SERVICE, statusCodes } from './support/muc-harness';

const ROOM = `crew@${SERVICE}`;

function recordingHub(): { hub: EventHub<GatewayEvents>; seen: Array<[string, unknown]> } {
  const seen: Array<[string, unknown]> = [];
  const hub = new EventHub<GatewayEvents>({ logger: { error: () => undefined }, defer: (run) => run() });
  for (const name of ['groupMessage', 'groupMemberAdded', 'groupMemberRemoved'] as const) hub.on(name, (payload) => void seen.push([name, payload]));
  return { hub, seen };
}

describe('events of the MUC service', () => {
  it('emits groupMessage once per room message, with its sequence number, whatever the number of occupants', async () => {
    const { hub, seen } = recordingHub();
    const h = new MucHarness({ events: hub });
    await h.create('alice@localhost/a', 'crew', 'al');
    await h.join('bob@localhost/b', 'crew', 'bo');
    seen.length = 0;
    await h.say('bob@localhost/b', 'crew', 'hi');
    expect(seen).toEqual([
      [
        'groupMessage',
        expect.objectContaining({ room: ROOM, from: `${ROOM}/bo`, sender: 'bob@localhost', seq: 1, archiveId: expect.stringMatching(/-1$/), occupants: 2 }),
      ],
    ]);
  });

  it('emits groupMemberAdded and groupMemberRemoved when an affiliation crosses membership, not for other changes', async () => {
    const { hub, seen } = recordingHub();
    const h = new MucHarness({ events: hub });
    await h.join('alice@localhost/a', 'crew', 'al');
    expect(seen).toEqual([['groupMemberAdded', expect.objectContaining({ room: ROOM, jid: 'alice@localhost', affiliation: 'owner' })]]);
    seen.length = 0;
    const admin = (jid: string, affiliation: string) =>
      h.iq('alice@localhost/a', ROOM, 'set', `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='${jid}' affiliation='${affiliation}'/></query>`);
    await admin('bob@localhost', 'member');
    await admin('bob@localhost', 'admin');
    await admin('bob@localhost', 'outcast');
    expect(seen).toEqual([
      ['groupMemberAdded', expect.objectContaining({ jid: 'bob@localhost', by: 'alice@localhost', affiliation: 'member' })],
      ['groupMemberRemoved', expect.objectContaining({ jid: 'bob@localhost', by: 'alice@localhost', affiliation: 'outcast' })],
    ]);
  });

  describe('a destroyed room: one groupMemberRemoved per member, reason destroyed', () => {
    const DESTROY = `<query xmlns='http://jabber.org/protocol/muc#owner'><destroy><reason>done</reason></destroy></query>`;

    it('XEP-0045 §10.9: an owner destroying a group of 3 members gives 3 removals, by the owner', async () => {
      const { hub, seen } = recordingHub();
      const h = new MucHarness({ events: hub });
      await h.muc.groups.create('crew', { name: 'Crew', owner: 'alice@localhost', members: ['bob@localhost', 'carol@localhost'] });
      await h.rooms.setAffiliation('crew', 'mallory@localhost', 'outcast');
      seen.length = 0;
      expect(await h.iq('alice@localhost/a', ROOM, 'set', DESTROY)).toMatchObject({ name: 'iq', attrs: { type: 'result' } });
      expect(await h.rooms.room('crew')).toBeUndefined();
      expect(seen.map(([name, event]) => [name, event])).toEqual(
        ['alice@localhost', 'bob@localhost', 'carol@localhost'].map((jid) => [
          'groupMemberRemoved',
          expect.objectContaining({ room: ROOM, jid, by: 'alice@localhost', affiliation: 'none', reason: 'destroyed' }),
        ]),
      );
    });

    it('the API deleting a group reports its members without by, and never the service that owns it', async () => {
      const { hub, seen } = recordingHub();
      const h = new MucHarness({ events: hub, serviceJid: 'localhost' });
      await h.muc.groups.create('crew', { name: 'Crew', members: ['alice@localhost', 'bob@localhost', 'carol@localhost'] });
      seen.length = 0;
      expect(await h.muc.groups.destroy('crew', 'the group was deleted')).toBe(true);
      expect(seen).toEqual(
        ['alice@localhost', 'bob@localhost', 'carol@localhost'].map((jid) => [
          'groupMemberRemoved',
          expect.objectContaining({ room: ROOM, jid, by: undefined, reason: 'destroyed' }),
        ]),
      );
    });

    it('a temporary room that goes with its last occupant reports its owner removed', async () => {
      const { hub, seen } = recordingHub();
      const h = new MucHarness({ events: hub });
      await h.create('alice@localhost/a', 'crew', 'al');
      seen.length = 0;
      await h.send('alice@localhost/a', `<presence to='${ROOM}/al' type='unavailable'/>`);
      expect(await h.rooms.room('crew')).toBeUndefined();
      expect(seen).toEqual([['groupMemberRemoved', expect.objectContaining({ jid: 'alice@localhost', reason: 'destroyed' })]]);
    });
  });

  describe('a removed account leaves every room (GroupService.removeAffiliations)', () => {
    it('ends each membership with reason account-removed, removes its occupant from a members-only room with 321 (XEP-0045 §9.4), drops an outcast entry silently', async () => {
      const { hub, seen } = recordingHub();
      const h = new MucHarness({ events: hub, serviceJid: 'localhost' });
      await h.muc.groups.create('crew', { name: 'Crew', owner: 'alice@localhost', members: ['bob@localhost'] });
      await h.muc.groups.create('ops', { name: 'Ops', owner: 'carol@localhost', members: [] });
      await h.rooms.setAffiliation('ops', 'bob@localhost', 'outcast');
      expect(await h.join('bob@localhost/b', 'crew', 'bo')).toBeUndefined();
      expect(await h.join('alice@localhost/a', 'crew', 'al')).toBeUndefined();
      h.take();
      seen.length = 0;
      await h.muc.groups.removeAffiliations('bob@localhost');
      expect(seen).toEqual([
        ['groupMemberRemoved', expect.objectContaining({ room: ROOM, jid: 'bob@localhost', by: undefined, affiliation: 'none', reason: 'account-removed' })],
      ]);
      for (const to of ['bob@localhost/b', 'alice@localhost/a']) {
        const gone = h.to(to).find((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/bo` && s.attrs.type === 'unavailable');
        expect(gone && statusCodes(gone)).toContain('321');
      }
      expect((await h.rooms.occupants('crew')).map((o) => o.nick)).toEqual(['al']);
      expect(await h.rooms.affiliationsOf('bob@localhost')).toEqual([]);
      expect(await h.muc.groups.groupsOf('bob@localhost')).toEqual([]);
    });

    it('hands a room it alone owned to the service (XEP-0045 §10.6: a room keeps an owner), which is not reported', async () => {
      const { hub, seen } = recordingHub();
      const h = new MucHarness({ events: hub, serviceJid: 'localhost' });
      await h.muc.groups.create('crew', { name: 'Crew', owner: 'alice@localhost', members: ['bob@localhost'] });
      await h.muc.groups.create('ops', { name: 'Ops', owner: 'carol@localhost', members: [] });
      await h.rooms.setAffiliation('ops', 'alice@localhost', 'owner');
      seen.length = 0;
      await h.muc.groups.removeAffiliations('alice@localhost');
      expect(Object.fromEntries(await h.rooms.affiliations('crew'))).toEqual({ localhost: 'owner', 'bob@localhost': 'member' });
      expect(Object.fromEntries(await h.rooms.affiliations('ops'))).toEqual({ 'carol@localhost': 'owner' });
      expect(seen.map(([name, event]) => [name, (event as { room: string }).room, (event as { jid: string }).jid])).toEqual([
        ['groupMemberRemoved', ROOM, 'alice@localhost'],
        ['groupMemberRemoved', `ops@${SERVICE}`, 'alice@localhost'],
      ]);
      // The group goes on: the API still deletes it as the service.
      expect(await h.muc.groups.destroy('crew', 'bye')).toBe(true);
    });
  });
});
