import { EventHub, type GatewayEvents } from '../../src/events';
import { MucHarness, SERVICE } from './support/muc-harness';

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
});
