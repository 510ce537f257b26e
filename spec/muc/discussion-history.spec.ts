import { parseStrictXml } from '../../src/xml';
import { historyRequest, historyStart, pickHistory } from '../../src/muc/discussion-history';

const history = (attrs: string) => parseStrictXml(`<history xmlns='http://jabber.org/protocol/muc' ${attrs}/>`);
const messages = ['a'.repeat(10), 'b'.repeat(20), 'c'.repeat(30), 'd'.repeat(40)];

describe('the discussion history a newcomer asks for (XEP-0045 §7.2.15)', () => {
  it('reads maxstanzas, maxchars, seconds and since, ignoring values that are not numbers or dates', () => {
    expect(historyRequest(undefined)).toEqual({ maxStanzas: undefined, maxChars: undefined, seconds: undefined, since: undefined });
    expect(historyRequest(history(`maxstanzas='5' maxchars='100' seconds='60' since='2026-01-01T00:00:00Z'`))).toEqual({
      maxStanzas: 5,
      maxChars: 100,
      seconds: 60,
      since: new Date('2026-01-01T00:00:00Z'),
    });
    expect(historyRequest(history(`maxstanzas='-1' maxchars='lots' since='yesterday'`))).toEqual({
      maxStanzas: undefined,
      maxChars: undefined,
      seconds: undefined,
      since: undefined,
    });
  });

  it('starts at the later of seconds ago and since', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(historyStart({}, now)).toBeUndefined();
    expect(historyStart({ seconds: 60 }, now)).toEqual(new Date(now - 60_000));
    expect(historyStart({ seconds: 60, since: new Date(now - 10_000) }, now)).toEqual(new Date(now - 10_000));
    expect(historyStart({ seconds: 10, since: new Date(now - 60_000) }, now)).toEqual(new Date(now - 10_000));
  });

  it('keeps the newest messages within the room’s length, maxstanzas and maxchars, oldest first', () => {
    const size = (m: string) => m.length;
    expect(pickHistory(messages, {}, 20, size)).toEqual(messages);
    expect(pickHistory(messages, {}, 2, size)).toEqual([messages[2], messages[3]]);
    expect(pickHistory(messages, { maxStanzas: 3 }, 20, size)).toEqual(messages.slice(1));
    // maxchars counts whole stanzas: 40 + 30 = 70 fits, adding 20 does not.
    expect(pickHistory(messages, { maxChars: 89 }, 20, size)).toEqual([messages[2], messages[3]]);
    expect(pickHistory(messages, { maxChars: 39 }, 20, size)).toEqual([]);
    expect(pickHistory(messages, { maxStanzas: 0 }, 20, size)).toEqual([]);
  });
});
