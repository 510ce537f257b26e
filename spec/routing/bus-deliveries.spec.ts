import { busDeliveries } from '../../src/routing/bus-deliveries';

describe('busDeliveries: the stanzas a bus message carries', () => {
  it("'deliver': one stanza for its one recipient", () => {
    const [only, ...rest] = busDeliveries({
      kind: 'deliver',
      to: 'alice@localhost/web',
      stanza: "<message to='alice@localhost/web'><body>hi</body></message>",
      hops: 1,
    });
    expect(rest).toEqual([]);
    expect(only?.to.full).toBe('alice@localhost/web');
    expect(only?.stanza.getChildText('body')).toBe('hi');
    expect(only?.hops).toBe(1);
  });

  it("'fanout': one copy per recipient, in the message's order, each addressed to its recipient", () => {
    const deliveries = busDeliveries({
      kind: 'fanout',
      to: ['bob@localhost/a', 'carol@localhost/b', 'dave@localhost/c'],
      stanza: "<message type='groupchat' from='room@conference.localhost/x'><body>m1</body></message>",
      hops: 1,
    });
    expect(deliveries.map((d) => d.to.full)).toEqual(['bob@localhost/a', 'carol@localhost/b', 'dave@localhost/c']);
    expect(deliveries.map((d) => d.stanza.attrs.to)).toEqual(['bob@localhost/a', 'carol@localhost/b', 'dave@localhost/c']);
    expect(deliveries.every((d) => d.stanza.getChildText('body') === 'm1' && d.stanza.attrs.from === 'room@conference.localhost/x')).toBe(true);
    // Copies, not one element shared: a session may change what it was handed.
    expect(new Set(deliveries.map((d) => d.stanza)).size).toBe(3);
  });

  it('skips a malformed address and carries nothing for the other kinds', () => {
    expect(busDeliveries({ kind: 'fanout', to: ['@', 'bob@localhost/a'], stanza: '<message/>', hops: 1 }).map((d) => d.to.full)).toEqual(['bob@localhost/a']);
    expect(busDeliveries({ kind: 'replace', bare: 'bob@localhost', resource: 'a' })).toEqual([]);
  });
});
