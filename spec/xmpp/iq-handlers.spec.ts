import { Element } from 'ltx';
import { IqHandlers, iqResult, type IqContext } from '../../src/xmpp/iq-handlers';
import { makeJid } from '../../src/base/jid';
import { StanzaError } from '../../src/base/stanza-error';
import { World, xml } from './support/actor-harness';

const NS_PAGES = 'urn:test:pages';
const request = { from: makeJid('alice', 'localhost', 'desk'), target: makeJid('alice', 'localhost') };
const query = (id: string) => xml(`<iq type='get' id='${id}' xmlns='jabber:client'><query xmlns='${NS_PAGES}'/></iq>`);

/** A test-only handler shaped like an archive query (XEP-0313): result messages, then the iq result. */
function pages(count: number, wait: () => Promise<void> = () => Promise.resolve()) {
  return async (iq: Element, _payload: Element, context: IqContext) => {
    for (let i = 1; i <= count; i++) {
      await wait();
      context.send(new Element('message', { xmlns: 'jabber:client' }).c('result', { xmlns: NS_PAGES, n: String(i) }).root());
    }
    return iqResult(iq);
  };
}

describe('iq handlers that answer with more than one stanza (XEP-0313 §4.1.2)', () => {
  it('passes the interim stanzas to the sink in order, all before the answer resolves', async () => {
    const handlers = new IqHandlers().on('get', 'query', NS_PAGES, pages(3));
    const out: string[] = [];
    const answer = await handlers.handle(query('q1'), request, (stanza) => out.push(String(stanza.getChild('result')?.attrs.n)));
    out.push('answer');
    expect(out).toEqual(['1', '2', '3', 'answer']);
    expect((answer as Element).attrs).toMatchObject({ type: 'result', id: 'q1' });
  });

  it('refuses an interim stanza sent after the handler answered, so none can follow the result', async () => {
    let late: IqContext | undefined;
    const handlers = new IqHandlers().on('get', 'query', NS_PAGES, (iq, _payload, context) => {
      late = context;
      return iqResult(iq);
    });
    const out: Element[] = [];
    await handlers.handle(query('q2'), request, (stanza) => out.push(stanza));
    expect(() => late?.send(new Element('message'))).toThrow(/after the answer to iq 'q2'/);
    expect(out).toEqual([]);
  });

  it('refuses interim stanzas when the caller gave them nowhere to go', async () => {
    const handlers = new IqHandlers().on('get', 'query', NS_PAGES, pages(1));
    await expect(Promise.resolve(handlers.handle(query('q3'), request))).rejects.toThrow(/nowhere to go/);
  });

  it('keeps answering handlers that send nothing else, with or without a sink', async () => {
    const handlers = new IqHandlers().on('get', 'query', NS_PAGES, (iq) => iqResult(iq)).on('set', 'query', NS_PAGES, () => new StanzaError('not-allowed'));
    expect((handlers.handle(query('q4'), request) as Element).attrs.type).toBe('result');
    const set = xml(`<iq type='set' id='q5' xmlns='jabber:client'><query xmlns='${NS_PAGES}'/></iq>`);
    expect(handlers.handle(set, request, () => undefined)).toBeInstanceOf(StanzaError);
  });
});

describe('a session sends an iq handler’s interim stanzas to its client before the answer', () => {
  it('sends the result messages in order, addressed to the requester, then the iq result', async () => {
    const world = await World.with({ alice: 'a' });
    // Test-only: an account handler that pages through three results, each after a store-like wait.
    world.domain.services.iq.account.on(
      'get',
      'query',
      NS_PAGES,
      pages(3, () => new Promise((resolve) => setImmediate(resolve))),
    );
    const alice = await world.login('alice', 'a', 'desk');
    alice.drain();
    const answer = await alice.iq(`<iq type='get' id='archive' to='alice@localhost'><query xmlns='${NS_PAGES}'/></iq>`);
    expect(answer.attrs).toMatchObject({ type: 'result', from: 'alice@localhost', to: 'alice@localhost/desk' });
    const before = alice.output.sent.slice(0, alice.output.sent.indexOf(answer)).filter((e) => e.name === 'message');
    expect(before.map((m) => m.getChild('result')?.attrs.n)).toEqual(['1', '2', '3']);
    for (const message of before) expect(message.attrs).toMatchObject({ from: 'alice@localhost', to: 'alice@localhost/desk', xmlns: 'jabber:client' });
    expect(alice.output.sent.slice(alice.output.sent.indexOf(answer) + 1).filter((e) => e.name === 'message')).toEqual([]);
  });
});
