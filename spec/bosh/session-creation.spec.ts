import { Harness, NS } from '../support/bosh-harness';

describe('XEP-0124 §7 session creation', () => {
  it('answers with the negotiated attributes and the stream features (§7.2, XEP-0206 §3)', () => {
    const h = new Harness({ maxWait: 60, maxHold: 2, inactivity: 30, polling: 2, maxPause: 120 });
    const { creation } = h.create("wait='60' hold='1' ver='1.6'");
    expect(creation.response?.status).toBe(200);
    expect(creation.attr('sid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(creation.attr('wait')).toBe('60');
    expect(creation.attr('hold')).toBe('1');
    expect(creation.attr('requests')).toBe('2');
    expect(creation.attr('inactivity')).toBe('30');
    expect(creation.attr('polling')).toBe('2');
    expect(creation.attr('maxpause')).toBe('120');
    expect(creation.attr('ver')).toBe('1.6');
    expect(creation.attr('from')).toBe('localhost');
    expect(creation.attr('xmpp:version')).toBe('1.0');
    expect(creation.attr('xmpp:restartlogic')).toBe('true');
    expect(creation.body).toContain("xmlns:stream='http://etherx.jabber.org/streams'");
    expect(creation.body).toContain('<stream:features>');
  });

  it('lowers wait to the configured maximum instead of refusing (§7.2)', () => {
    const h = new Harness({ maxWait: 30 });
    expect(h.create("wait='300' hold='1' ver='1.11'").creation.attr('wait')).toBe('30');
  });

  it('lowers hold to the configured maximum instead of refusing (§7.2: hold M: ≤ requested)', () => {
    const h = new Harness({ maxHold: 1 });
    const { creation } = h.create("wait='10' hold='2' ver='1.11'");
    expect(creation.attr('hold')).toBe('1');
    expect(creation.attr('requests')).toBe('2');
  });

  it('answers ver with the lower of the two versions (§7.2)', () => {
    const h = new Harness();
    expect(h.create("wait='10' hold='1' ver='1.99'").creation.attr('ver')).toBe('1.11');
  });

  it('issues a different, unpredictable sid for each session (§7.2, §18)', () => {
    const h = new Harness();
    const sids = new Set(Array.from({ length: 50 }, (_, i) => h.create(undefined, 10 + i * 100).sid));
    expect(sids.size).toBe(50);
  });

  it('holds the creation response until the features are ready (XEP-0206 §3)', () => {
    const h = new Harness({}, 65_536, false);
    const creation = h.send(`<body rid='5' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`);
    expect(creation.answered).toBe(false);
    h.endpoints[0]?.sendFeatures();
    h.scheduler.runDeferred();
    expect(creation.attr('sid')).toBeDefined();
    expect(creation.body).toContain('<stream:features>');
  });

  it('still answers the creation request within wait when the features are late (§8)', () => {
    const h = new Harness({}, 65_536, false);
    const creation = h.send(`<body rid='5' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`);
    h.scheduler.advance(10_000);
    expect(creation.attr('sid')).toBeDefined();
    expect(creation.body).not.toContain('<stream:features>');
  });

  it('uses the content type the client asked for in every response (§7.1)', () => {
    const h = new Harness();
    const { sid, creation } = h.create("wait='10' hold='1' ver='1.11' content='application/xml'");
    expect(creation.response?.contentType).toBe('application/xml');
    const unknown = h.request(sid, 1005);
    expect(unknown.response?.contentType).toBe('application/xml');
  });
});

describe('XEP-0124 §17.2 creation errors', () => {
  const h = new Harness();
  const terminal = (raw: string): string | undefined => {
    const exchange = h.send(raw);
    expect(exchange.response?.status).toBe(200);
    return exchange.attr('condition');
  };

  it('refuses a domain this service does not serve with host-unknown', () => {
    expect(terminal(`<body rid='1' to='example.org' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`)).toBe('host-unknown');
  });

  it('refuses a creation request without to with improper-addressing', () => {
    expect(terminal(`<body rid='1' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`)).toBe('improper-addressing');
  });

  it('refuses a missing or invalid wait with bad-request', () => {
    expect(terminal(`<body rid='1' to='localhost' hold='1' ver='1.11' xmlns='${NS}'/>`)).toBe('bad-request');
    expect(terminal(`<body rid='1' to='localhost' wait='soon' hold='1' ver='1.11' xmlns='${NS}'/>`)).toBe('bad-request');
  });

  it('refuses a missing, zero or unsafe rid with bad-request (§14.1)', () => {
    expect(terminal(`<body to='localhost' wait='10' ver='1.11' xmlns='${NS}'/>`)).toBe('bad-request');
    expect(terminal(`<body rid='0' to='localhost' wait='10' ver='1.11' xmlns='${NS}'/>`)).toBe('bad-request');
    expect(terminal(`<body rid='9007199254740992' to='localhost' wait='10' ver='1.11' xmlns='${NS}'/>`)).toBe('bad-request');
  });

  it('accepts the largest JavaScript-safe rid (§14.1)', () => {
    const exchange = h.send(`<body rid='9007199254740990' to='localhost' wait='10' hold='1' ver='1.11' xmlns='${NS}'/>`);
    expect(exchange.attr('sid')).toBeDefined();
  });

  it('refuses an invalid content type rather than echoing it into a header', () => {
    expect(terminal(`<body rid='1' to='localhost' wait='10' ver='1.11' content='text/xml\r\nX: y' xmlns='${NS}'/>`)).toBe('bad-request');
  });

  it('answers a legacy client (no ver) with the HTTP status instead (§17.1)', () => {
    const exchange = h.send(`<body rid='1' to='localhost' hold='1' xmlns='${NS}'/>`);
    expect(exchange.response?.status).toBe(400);
    expect(exchange.body).toBe('');
  });
});
