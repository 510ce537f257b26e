import { parseStrictXml } from '../../src/xml';
import { worthJournaling, worthKeepingOffline } from '../../src/routing/worth-keeping';
import { OfflineService } from '../../src/xmpp/offline/offline-service';

const message = (attrs: string, inner: string) => parseStrictXml(`<message xmlns='jabber:client' to='bob@localhost' ${attrs}>${inner}</message>`);

describe('which messages are kept offline (XEP-0160) and journaled in cluster mode', () => {
  const cases: Array<[string, string, string, boolean, boolean]> = [
    ['chat with a body', `type='chat'`, '<body>hi</body>', true, true],
    ['normal (no type) with a body', '', '<body>hi</body>', true, true],
    ['a chat state alone (XEP-0085)', `type='chat'`, `<composing xmlns='http://jabber.org/protocol/chatstates'/>`, false, false],
    ['a store hint without a body (XEP-0334)', `type='chat'`, `<store xmlns='urn:xmpp:hints'/>`, true, true],
    ['a body marked no-store (XEP-0334)', `type='chat'`, `<body>hi</body><no-store xmlns='urn:xmpp:hints'/>`, false, false],
    ['headline', `type='headline'`, '<body>news</body>', false, false],
    ['an error', `type='error'`, '<body>hi</body>', false, false],
    ['groupchat with a body (routed again, it goes back to the room as an error)', `type='groupchat'`, '<body>hi all</body>', false, true],
    ['groupchat without a body (a subject change, a chat state)', `type='groupchat'`, '<subject>topic</subject>', false, false],
  ];

  it.each(cases)('%s', (_what, attrs, inner, offline, journaled) => {
    const stanza = message(attrs, inner);
    expect(worthKeepingOffline(stanza)).toBe(offline);
    expect(OfflineService.storable(stanza)).toBe(offline);
    expect(worthJournaling(stanza)).toBe(journaled);
  });

  it('journals no presence and no iq (RFC 6120 §8.3: an iq whose recipient is gone gets an error anyway)', () => {
    expect(worthJournaling(parseStrictXml(`<presence xmlns='jabber:client'/>`))).toBe(false);
    expect(worthJournaling(parseStrictXml(`<iq xmlns='jabber:client' type='get' id='1'><body>not a message</body></iq>`))).toBe(false);
  });
});
