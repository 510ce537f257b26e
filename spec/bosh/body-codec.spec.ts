import { decodeRequest, encodeResponse } from '../../src/bosh/body-codec';
import { BoshError } from '../../src/bosh/conditions';
import { NS } from '../support/bosh-harness';

function conditionOf(raw: string): string {
  try {
    decodeRequest(raw);
  } catch (err) {
    if (err instanceof BoshError) return err.condition;
    throw err;
  }
  return 'accepted';
}

describe('XEP-0124 §4 the <body/> wrapper', () => {
  it('reads rid, sid, payloads and the xbosh attributes whatever their prefix', () => {
    const request = decodeRequest(
      `<body rid='42' sid='s1' x:restart='true' xmlns:x='urn:xmpp:xbosh' xmlns='${NS}'><message xmlns='jabber:client'/><iq xmlns='jabber:client'/></body>`,
    );
    expect(request.rid).toBe(42);
    expect(request.sid).toBe('s1');
    expect(request.restart).toBe(true);
    expect(request.payloads.map((p) => p.name)).toEqual(['message', 'iq']);
    expect(request.payloads[0]?.parent).toBeNull();
  });

  it.each([
    ['broken XML', `<body rid='1' xmlns='${NS}'><message></body>`],
    ['a comment (§4, which ltx alone would skip)', `<body rid='1' xmlns='${NS}'><!-- hi --></body>`],
    ['a processing instruction', `<body rid='1' xmlns='${NS}'><?php x ?></body>`],
    ['a DOCTYPE', `<!DOCTYPE body><body rid='1' xmlns='${NS}'/>`],
    ['an entity declaration', `<!DOCTYPE body [<!ENTITY x "y">]><body rid='1' xmlns='${NS}'>&x;</body>`],
    ['an undeclared entity', `<body rid='1' xmlns='${NS}'><m>&nbsp;</m></body>`],
    ['a root other than body', `<html rid='1' xmlns='${NS}'/>`],
    ['a body in another namespace', `<body rid='1' xmlns='jabber:client'/>`],
    ['character data directly inside body (§4)', `<body rid='1' xmlns='${NS}'>hello</body>`],
    ['a second root element', `<body rid='1' xmlns='${NS}'/><body rid='2' xmlns='${NS}'/>`],
    ['trailing text after the root', `<body rid='1' xmlns='${NS}'/>junk`],
    ['a missing rid', `<body xmlns='${NS}'/>`],
    ['a non-numeric rid', `<body rid='12a' xmlns='${NS}'/>`],
    ['an unknown type', `<body rid='1' type='bogus' xmlns='${NS}'/>`],
    ['a non-numeric pause', `<body rid='1' pause='soon' xmlns='${NS}'/>`],
    ['an empty document', ''],
  ])('refuses %s with bad-request (§17.2)', (_what, raw) => {
    expect(conditionOf(raw)).toBe('bad-request');
  });

  it('accepts an XML declaration, CDATA and whitespace between payloads', () => {
    expect(conditionOf(`<?xml version='1.0'?>\n<body rid='1' xmlns='${NS}'>\n  <m><![CDATA[<b>]]></m>\n</body>\n`)).toBe('accepted');
  });
});

describe('response bodies', () => {
  it('declares the stream prefix only when a payload uses it (XEP-0206 §4)', () => {
    expect(encodeResponse([])).toBe(`<body xmlns='${NS}'/>`);
    expect(encodeResponse([], ['<message/>'])).toBe(`<body xmlns='${NS}'><message/></body>`);
    expect(encodeResponse([], ['<stream:features/>'])).toContain("xmlns:stream='http://etherx.jabber.org/streams'");
  });

  it('escapes attribute values', () => {
    expect(encodeResponse([['condition', `a'b<c>&"`]])).toBe(`<body xmlns='${NS}' condition='a&apos;b&lt;c&gt;&amp;&quot;'/>`);
  });
});
