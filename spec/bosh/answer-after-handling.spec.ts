import { Harness } from '../support/bosh-harness';

/** An endpoint whose handling of what it received finishes when the test says so. */
function slowEndpoint(endpoint: object): { finish(): Promise<void> } {
  let release: () => void = () => undefined;
  let busy: Promise<void> | undefined;
  Object.assign(endpoint, {
    handled: () => (busy ??= new Promise<void>((resolve) => (release = resolve))),
  });
  return {
    async finish() {
      busy = undefined;
      release();
      await Promise.resolve();
      await Promise.resolve();
    },
  };
}

describe('a request carrying stanzas is answered only once they are handled (XEP-0124 §8 hold, accepted means routed)', () => {
  it('keeps the answer of a request whose message is still being routed, even when output arrives for it, then answers it with that output', async () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const slow = slowEndpoint(endpoint);
    const poll = h.request(sid, 1001);
    const carrying = h.request(sid, 1002, "<message xmlns='jabber:client' to='bob@localhost' id='m1'><body>hi</body></message>");
    // hold=1: the older poll goes at once; it carried nothing.
    expect(poll.answered).toBe(true);
    endpoint.push('for alice');
    h.scheduler.runDeferred();
    expect(carrying.answered).toBe(false);
    await slow.finish();
    expect(carrying.texts).toEqual(['for alice']);
  });

  it('answers it empty when its wait elapsed while the message was being routed, once routed', async () => {
    const h = new Harness();
    const { sid, endpoint } = h.create("wait='10' hold='1' ver='1.11'");
    const slow = slowEndpoint(endpoint);
    const carrying = h.request(sid, 1001, "<message xmlns='jabber:client' to='bob@localhost' id='m1'><body>hi</body></message>");
    h.scheduler.advance(10_000);
    expect(carrying.answered).toBe(false);
    await slow.finish();
    expect(carrying.body).toBe(`<body xmlns='http://jabber.org/protocol/httpbind'/>`);
  });
});
