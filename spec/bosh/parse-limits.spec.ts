import { decodeRequest, DEFAULT_MAX_XML_DEPTH } from '../../src/bosh/body-codec';
import { BoshError } from '../../src/bosh/conditions';
import { TruncatedElement } from '../../src/xml';
import { Harness, NS } from '../support/bosh-harness';

const LIMIT = DEFAULT_MAX_XML_DEPTH;

/** A message whose deepest element sits at `depth`, counting <body/> as level 1. */
function stanzaReaching(depth: number, id = 'deep'): string {
  const inner = depth - 2;
  return `<message xmlns='jabber:client' id='${id}'>${'<x>'.repeat(inner)}${'</x>'.repeat(inner)}</message>`;
}

function conditionOf(raw: string): string {
  try {
    decodeRequest(raw);
  } catch (err) {
    if (err instanceof BoshError) return err.condition;
    throw err;
  }
  return 'accepted';
}

describe('the depth of a request body (MAX_XML_DEPTH, <body/> is level 1)', () => {
  it('defaults to a limit far above what real stanzas reach (10 to 12 levels)', () => {
    expect(LIMIT).toBe(48);
  });

  it.each([LIMIT - 1, LIMIT])('passes a stanza reaching level %i whole', (depth) => {
    const request = decodeRequest(`<body rid='1' xmlns='${NS}'>${stanzaReaching(depth)}</body>`);
    expect(request.payloads[0]).not.toBeInstanceOf(TruncatedElement);
  });

  it('hands on a stanza one level deeper as a TruncatedElement (name and attributes only), the others whole', () => {
    const request = decodeRequest(`<body rid='1' xmlns='${NS}'><message xmlns='jabber:client' id='a'/>${stanzaReaching(LIMIT + 1)}<iq id='b'/></body>`);
    expect(request.payloads.map((p) => p.attrs.id)).toEqual(['a', 'deep', 'b']);
    expect(request.payloads.map((p) => p instanceof TruncatedElement)).toEqual([false, true, false]);
    expect(request.payloads[1]?.children).toEqual([]);
  });

  it.each([2 * LIMIT + 1, 20_000])('refuses a body nested %i levels deep with policy-violation (§17.2)', (depth) => {
    expect(conditionOf(`<body rid='1' xmlns='${NS}'>${stanzaReaching(depth)}</body>`)).toBe('policy-violation');
  });

  it('takes its limit from the transport options', () => {
    const raw = `<body rid='1' xmlns='${NS}'>${stanzaReaching(12)}</body>`;
    expect(decodeRequest(raw, 12).payloads[0]).not.toBeInstanceOf(TruncatedElement);
    expect(decodeRequest(raw, 11).payloads[0]).toBeInstanceOf(TruncatedElement);
    expect(() => decodeRequest(`<body rid='1' xmlns='${NS}'>${stanzaReaching(23)}</body>`, 11)).toThrow(BoshError);
  });
});

describe('the size of each payload comes from the request bytes', () => {
  it('records the UTF-8 length of every payload as sent', () => {
    const a = `<message xmlns='jabber:client'><body>grüße 😀 &amp;</body></message>`;
    const b = `<presence xmlns='jabber:client'/>`;
    const request = decodeRequest(`<body rid='1' xmlns='${NS}'>\n ${a}\n ${b}\n</body>`);
    expect(request.payloadBytes).toEqual([Buffer.byteLength(a), Buffer.byteLength(b)]);
  });
});

describe('characters and names XML 1.0 forbids make the body not well-formed: bad-request (§17.2)', () => {
  it.each([
    ['a control character in a message body', `<message xmlns='jabber:client'><body>a\u0007b</body></message>`],
    ['&#1; in a message body', `<message xmlns='jabber:client'><body>a&#1;b</body></message>`],
    ['&#xFFFE; in an attribute', `<message xmlns='jabber:client' id='&#xFFFE;'/>`],
    ['&#xD800; in a message body', `<message xmlns='jabber:client'><body>&#xD800;</body></message>`],
    ['a lone surrogate in a message body', `<message xmlns='jabber:client'><body>\uDC00</body></message>`],
    ['an element name starting with a digit', `<message xmlns='jabber:client'><9lives/></message>`],
    ['an undeclared entity', `<message xmlns='jabber:client'><body>&eacute;</body></message>`],
  ])('refuses %s', (_what, payload) => {
    expect(conditionOf(`<body rid='1' xmlns='${NS}'>${payload}</body>`)).toBe('bad-request');
  });
});

describe('a BOSH session and the depth limit', () => {
  it('refuses a too-deep stanza alone and passes the others of the body in order', () => {
    const h = new Harness();
    const { sid, endpoint } = h.create();
    h.request(sid, 1001, `<message id='ok1' xmlns='jabber:client'/>${stanzaReaching(LIMIT + 1)}${stanzaReaching(LIMIT, 'ok2')}`);
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['ok1', 'ok2']);
    expect(endpoint.refused.map((e) => e.attrs.id)).toEqual(['deep']);
    expect(endpoint.refusalReasons).toEqual(['too-deep']);
    expect(h.transport.session(sid)?.state).toBe('open');
  });

  it('ends a live session named by a body 20,000 levels deep with policy-violation, leaving others alone', () => {
    const h = new Harness();
    const victim = h.create(undefined, 100);
    const other = h.create(undefined, 500);
    const answer = h.request(victim.sid, 101, stanzaReaching(20_000));
    expect(answer.attr('type')).toBe('terminate');
    expect(answer.attr('condition')).toBe('policy-violation');
    expect(h.transport.session(victim.sid)).toBeUndefined();
    expect(victim.endpoint.received).toEqual([]);
    const poll = h.request(other.sid, 501);
    other.endpoint.push('still here');
    h.scheduler.runDeferred();
    expect(poll.texts).toEqual(['still here']);
  });

  it('answers a creation body 20,000 levels deep with policy-violation and opens no session', () => {
    const h = new Harness();
    const answer = h.send(`<body rid='1' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'>${stanzaReaching(20_000)}</body>`);
    expect(answer.attr('condition')).toBe('policy-violation');
    expect(h.transport.sessionCount).toBe(0);
  });

  it('answers a creation body with a too-deep stanza by refusing that stanza through the new session', () => {
    const h = new Harness();
    h.send(`<body rid='1' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'>${stanzaReaching(LIMIT + 1)}</body>`);
    expect(h.endpoints[0]?.refusalReasons).toEqual(['too-deep']);
  });

  it('refuses a stanza above the size limit by its bytes in the request, counting multi-byte characters', () => {
    const h = new Harness({}, 600);
    const { sid, endpoint } = h.create();
    // 250 characters of two bytes each: 500 bytes of text, above 600 with the markup only in bytes.
    const fits = `<message id='fits' xmlns='jabber:client'><body>${'é'.repeat(250)}</body></message>`;
    const over = `<message id='over' xmlns='jabber:client'><body>${'é'.repeat(300)}</body></message>`;
    expect(over.length).toBeLessThan(600);
    h.request(sid, 1001, `${fits}${over}`);
    expect(endpoint.received.map((e) => e.attrs.id)).toEqual(['fits']);
    expect(endpoint.refused.map((e) => e.attrs.id)).toEqual(['over']);
    expect(endpoint.refusalReasons).toEqual(['too-big']);
  });
});
