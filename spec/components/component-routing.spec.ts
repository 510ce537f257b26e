import { Element } from 'ltx';
import type { Component, ComponentOutlet } from '../../src/components';
import { StanzaError } from '../../src/base/stanza-error';
import { EchoComponent } from '../support/echo-component';
import { quiesce, stanzaErrorOf, until, World } from '../xmpp/support/actor-harness';

const ECHO = 'echo.localhost';

async function worldWithEcho(): Promise<{ world: World; echo: EchoComponent }> {
  const world = await World.with({ alice: 'a' });
  const echo = new EchoComponent(ECHO);
  world.domain.components.register(echo);
  return { world, echo };
}

describe('stanzas to a component domain go to the component on this node', () => {
  it('hands a message to the component, stamped with the sender, and routes its answer back to the sender', async () => {
    const { world, echo } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    alice.send(`<message to='${ECHO}' type='chat' id='e1'><body>hi</body></message>`);
    const answer = await alice.next((e) => e.name === 'message', 'the echo');
    expect(answer.attrs).toMatchObject({ from: ECHO, to: 'alice@localhost/desk', type: 'chat' });
    expect(answer.getChildText('body')).toBe('echo: hi (local)');
    expect(echo.handled[0]?.attrs.from).toBe('alice@localhost/desk');
  });

  it('hands over stanzas to a JID at the component domain, with their local part and resource', async () => {
    const { world } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    alice.send(`<message to='room@${ECHO}/nick' type='groupchat'><body>to the room</body></message>`);
    const answer = await alice.next((e) => e.name === 'message', 'the echo');
    expect(answer.attrs.from).toBe(`room@${ECHO}/nick`);
    expect(answer.getChildText('body')).toBe('echo: to the room (local)');
  });

  it('lets the component answer an iq instead of the server’s own handlers', async () => {
    const { world } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    const answer = await alice.iq(`<iq type='get' id='q1' to='${ECHO}'><query xmlns='urn:test:echo'/></iq>`);
    expect(answer.attrs).toMatchObject({ type: 'result', from: ECHO, to: 'alice@localhost/desk' });
  });

  it('answers the sender with the StanzaError the component rejected a stanza with (RFC 6120 §8.3)', async () => {
    const { world } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    alice.send(`<message to='${ECHO}' type='chat' id='bad'><body>refuse</body></message>`);
    const error = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error', 'the error');
    expect(error.attrs).toMatchObject({ id: 'bad', from: ECHO, to: 'alice@localhost/desk' });
    expect(stanzaErrorOf(error).condition).toBe('not-acceptable');
  });

  it('sends directed presence to the component, and unavailable to it when the session ends (RFC 6121 §4.6.3)', async () => {
    const { world, echo } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    alice.send('<presence/>');
    alice.send(`<presence to='room@${ECHO}/alice'/>`);
    await alice.sync();
    expect(echo.handled.map((s) => [s.name, s.attrs.type])).toEqual([['presence', undefined]]);
    alice.actor.end('terminate', []);
    await world.domain.settle();
    await until(() => echo.handled.length === 2, 'unavailable at the component');
    expect(echo.handled[1]?.attrs).toMatchObject({ type: 'unavailable', from: 'alice@localhost/desk', to: `room@${ECHO}/alice` });
  });

  it('still answers a domain that is neither this one nor a component with remote-server-not-found', async () => {
    const { world } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    alice.send("<message to='other.example' type='chat' id='far'><body>hi</body></message>");
    const error = await alice.next((e) => e.name === 'message' && e.attrs.type === 'error', 'the error');
    expect(stanzaErrorOf(error).condition).toBe('remote-server-not-found');
  });
});

/** A component that refuses every stanza it is given, errors included, and records them. */
class RefusingComponent implements Component {
  readonly handled: Element[] = [];
  outlet: ComponentOutlet | undefined;
  constructor(readonly domain: string) {}
  attach(outlet: ComponentOutlet): void {
    this.outlet = outlet;
  }
  handle(stanza: Element): Promise<void> {
    this.handled.push(stanza);
    return Promise.reject(new StanzaError('not-acceptable'));
  }
}

describe('an error for what a component sent comes back to the component (RFC 6120 §8.3)', () => {
  it('a groupchat from an occupant JID to a resource that is gone bounces to that address once; the component’s refusal of the error is never answered', async () => {
    const world = await World.with({ alice: 'a' });
    const rooms = new RefusingComponent('rooms.localhost');
    world.domain.components.register(rooms);
    const message = new Element('message', { from: 'team@rooms.localhost/al', to: 'alice@localhost/gone', type: 'groupchat', id: 'g1' });
    message.c('body').t('hello');
    await rooms.outlet?.send(message);
    await until(() => rooms.handled.length === 1, 'the bounce at the component');
    expect(rooms.handled[0]?.attrs).toMatchObject({ type: 'error', id: 'g1', from: 'alice@localhost/gone', to: 'team@rooms.localhost/al' });
    expect(stanzaErrorOf(rooms.handled[0] as Element).condition).toBe('service-unavailable');
    // The component threw on the error: an error is never answered, so nothing comes back again.
    await quiesce();
    expect(rooms.handled).toHaveLength(1);
  });

  it('an error for the component’s own domain (the service itself) is not routed back to it', async () => {
    const world = await World.with({ alice: 'a' });
    const rooms = new RefusingComponent('rooms.localhost');
    world.domain.components.register(rooms);
    const message = new Element('message', { from: 'rooms.localhost', to: 'alice@localhost/gone', type: 'groupchat' });
    await rooms.outlet?.send(message);
    await quiesce();
    expect(rooms.handled).toEqual([]);
  });
});

describe('disco#items on the server domain lists the components (XEP-0030 §4)', () => {
  it('lists each registered component with its name, and nothing when there are none', async () => {
    const bare = await World.with({ alice: 'a' });
    const lonely = await bare.login('alice', 'a', 'desk');
    const none = await lonely.iq("<iq type='get' id='d0' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    expect(none.getChild('query')?.getChildren('item')).toEqual([]);

    const { world } = await worldWithEcho();
    const alice = await world.login('alice', 'a', 'desk');
    const items = await alice.iq("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    expect(
      items
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs),
    ).toEqual([{ jid: ECHO, name: 'Echo' }]);
  });
});
