import { parse } from 'ltx';
import { stripForgedStanzaIds } from '../../src/xmpp/stanza-ids';

describe('XEP-0359 §3.1: stanza-ids a client sends', () => {
  it('are dropped when they claim this domain or one of its users, and kept when by another entity', () => {
    const message = parse(
      `<message><body>x</body>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='1'/>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' by='example.com' id='2'/>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' id='no-by'/>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.com' id='3'/>` +
        `<stanza-id xmlns='urn:xmpp:sid:0' by='other.org' id='4'/>` +
        `<origin-id xmlns='urn:xmpp:sid:0' id='5'/>` +
        `</message>`,
    );
    stripForgedStanzaIds(message, 'example.com');
    expect(message.getChildren('stanza-id', 'urn:xmpp:sid:0').map((s) => s.attrs.id)).toEqual(['3', '4']);
    expect(message.getChild('origin-id', 'urn:xmpp:sid:0')).toBeDefined();
    expect(message.getChildText('body')).toBe('x');
  });
});
