// The business API under load: one POST /control to every one of N online users (fan-out: when did the last one get
// it?), then single-recipient pushes at a steady rate (API latency and push-to-arrival, p50/p99). The clients are
// prebound sessions (POST /sessions: no PBKDF2 per login) that keep one request held, as a browser page does.
import * as hdr from 'hdr-histogram-js';
import { Agent, request } from 'node:http';

export interface ApiFanout {
  recipients: number;
  /** the /control call's own latency */
  apiMs: number;
  delivered: number;
  arrived: number;
  /** from sending the call to the first and the last arrival, and the median */
  firstMs: number;
  p50Ms: number;
  lastMs: number;
}

export interface ApiSteady {
  rate: number;
  seconds: number;
  sent: number;
  delivered: number;
  arrived: number;
  apiP50Ms: number;
  apiP99Ms: number;
  arrivalP50Ms: number;
  arrivalP99Ms: number;
}

export interface ApiPushResult {
  users: number;
  fanout: ApiFanout;
  steady: ApiSteady;
}

const NS = 'http://jabber.org/protocol/httpbind';

function post(agent: Agent, url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One prebound page: keeps one request held and notes when each pushed sequence number arrives. */
class Page {
  private rid = 0;
  private sid = '';
  closed = false;
  constructor(
    private readonly boshUrl: string,
    private readonly agent: Agent,
    private readonly arrived: (seq: number, at: number) => void,
  ) {}

  start(session: { sid: string; rid: number }): void {
    this.sid = session.sid;
    this.rid = session.rid;
    // Initial presence makes the session available (RFC 6121 §4.2); then one poll at a time.
    this.poll("<presence xmlns='jabber:client'/>");
  }

  private poll(payload = ''): void {
    if (this.closed) return;
    const rid = this.rid++;
    post(this.agent, this.boshUrl, `<body rid='${rid}' sid='${this.sid}' xmlns='${NS}'>${payload}</body>`, { 'Content-Type': 'text/xml; charset=utf-8' }).then(
      ({ text }) => {
        const at = performance.now();
        for (const m of text.matchAll(/&quot;seq&quot;:(\d+)|"seq":(\d+)/g)) this.arrived(Number(m[1] ?? m[2]), at);
        if (/type=['"]terminate['"]/.test(text)) this.closed = true;
        else this.poll();
      },
      () => {
        this.closed = true;
      },
    );
  }

  terminate(): Promise<unknown> {
    this.closed = true;
    return post(this.agent, this.boshUrl, `<body rid='${this.rid++}' sid='${this.sid}' type='terminate' xmlns='${NS}'/>`, {
      'Content-Type': 'text/xml; charset=utf-8',
    }).catch(() => undefined);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runApiPush(
  origin: string,
  boshPath: string,
  key: string,
  users: readonly string[],
  steady: { rate: number; seconds: number },
  log: (s: string) => void,
): Promise<ApiPushResult> {
  const api = new Agent({ keepAlive: true, maxSockets: 64 });
  const bosh = new Agent({ keepAlive: true, maxSockets: Infinity });
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` };
  const call = async (path: string, body: object): Promise<{ status: number; json: { results?: Array<{ status: string }> } & Record<string, unknown> }> => {
    const { status, text } = await post(api, `${origin}/api/v1${path}`, JSON.stringify(body), headers);
    return { status, json: JSON.parse(text) as { results?: Array<{ status: string }> } & Record<string, unknown> };
  };
  // seq → user → arrival time
  const arrivals = new Map<number, Map<string, number>>();
  const pages: Page[] = [];
  try {
    // Prebind every user, a few dozen at a time.
    const t0 = performance.now();
    for (let i = 0; i < users.length; i += 50) {
      await Promise.all(
        users.slice(i, i + 50).map(async (user) => {
          const { status, json } = await call('/sessions', { username: user, resource: 'bench' });
          if (status !== 201) throw new Error(`prebind of ${user}: ${status} ${JSON.stringify(json)}`);
          const page = new Page(`${origin}${boshPath}`, bosh, (seq, at) => {
            let bySeq = arrivals.get(seq);
            if (!bySeq) arrivals.set(seq, (bySeq = new Map()));
            if (!bySeq.has(user)) bySeq.set(user, at);
          });
          pages.push(page);
          page.start(json as unknown as { sid: string; rid: number });
        }),
      );
    }
    log(`api: ${users.length} sessions prebound in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Warm-up, and proof that every page is available: a control to all, until each has it.
    const waitFor = async (seq: number, count: number, ms: number): Promise<void> => {
      const end = performance.now() + ms;
      while ((arrivals.get(seq)?.size ?? 0) < count && performance.now() < end) await sleep(5);
    };
    for (let attempt = 0; attempt < 20 && (arrivals.get(0)?.size ?? 0) < users.length; attempt++) {
      await call('/control', { to: users.filter((u) => !arrivals.get(0)?.has(u)), type: 'bench.warmup', data: { seq: 0 } });
      await waitFor(0, users.length, 1_000);
    }

    // Fan-out: one call to every user.
    const sentAt = performance.now();
    const fan = await call('/control', { to: users, type: 'bench.fanout', data: { seq: 1 } });
    const apiMs = performance.now() - sentAt;
    await waitFor(1, users.length, 10_000);
    const times = [...(arrivals.get(1)?.values() ?? [])].map((t) => t - sentAt).sort((a, b) => a - b);
    const fanout: ApiFanout = {
      recipients: users.length,
      apiMs,
      delivered: fan.json.results?.filter((r) => r.status === 'delivered').length ?? 0,
      arrived: times.length,
      firstMs: times[0] ?? NaN,
      p50Ms: times[Math.floor(times.length / 2)] ?? NaN,
      lastMs: times[times.length - 1] ?? NaN,
    };

    // Steady single-recipient pushes at `rate` per second.
    const apiLatency = hdr.build({ numberOfSignificantValueDigits: 3 });
    const arrival = hdr.build({ numberOfSignificantValueDigits: 3 });
    const total = Math.round(steady.rate * steady.seconds);
    const sends = new Map<number, { at: number; user: string }>();
    let delivered = 0;
    const calls: Promise<void>[] = [];
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / steady.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const seq = 2 + i;
      const user = users[i % users.length] as string;
      const at = performance.now();
      sends.set(seq, { at, user });
      calls.push(
        call('/control', { to: [user], type: 'bench.push', data: { seq } }).then(({ json }) => {
          apiLatency.recordValue(Math.round((performance.now() - at) * 1000));
          if (json.results?.[0]?.status === 'delivered') delivered++;
        }),
      );
    }
    await Promise.all(calls);
    const end = performance.now() + 5_000;
    while (performance.now() < end && [...sends.keys()].some((seq) => !arrivals.get(seq)?.size)) await sleep(10);
    let arrived = 0;
    for (const [seq, { at, user }] of sends) {
      const got = arrivals.get(seq)?.get(user);
      if (got === undefined) continue;
      arrived++;
      arrival.recordValue(Math.round((got - at) * 1000));
    }
    const p = (h: hdr.Histogram, q: number): number => (h.totalCount ? h.getValueAtPercentile(q) / 1000 : NaN);
    return {
      users: users.length,
      fanout,
      steady: {
        rate: steady.rate,
        seconds: steady.seconds,
        sent: total,
        delivered,
        arrived,
        apiP50Ms: p(apiLatency, 50),
        apiP99Ms: p(apiLatency, 99),
        arrivalP50Ms: p(arrival, 50),
        arrivalP99Ms: p(arrival, 99),
      },
    };
  } finally {
    await Promise.all(pages.map((page) => page.terminate()));
    api.destroy();
    bosh.destroy();
  }
}
