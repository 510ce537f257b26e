// Load-generator worker process, forked by bench/run.ts. It owns BOSH sessions and answers commands over IPC.
import * as hdr from 'hdr-histogram-js';
import { BoshError, Session, Transport } from './lib/bosh';
import type { Histogram } from 'hdr-histogram-js';
import {
  monoMs,
  passwordFor,
  userFor,
  type ChatSetupCmd,
  type ChatSetupResult,
  type ChatStepCmd,
  type ChatStepResult,
  type HopSetupCmd,
  type HopSetupResult,
  type HopStepCmd,
  type HopStepResult,
  type TargetCmd,
  type LoginCmd,
  type LoginResult,
  type Reply,
  type Request,
  type StatusResult,
  type TerminateCmd,
} from './lib/protocol';
import { attr, bodyTag as bodyTagOf, HTTPBIND_NS } from './lib/xml';
import { monitorEventLoopDelay } from 'node:perf_hooks';

let transport: Transport | undefined;
let target: TargetCmd | undefined;
const groups = new Map<string, Session[]>();

function newHist(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3 });
}

function recordUs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} not initialised`);
  return v;
}

// ---------------------------------------------------------------- login

async function loginMany(
  cmd: Pick<LoginCmd, 'from' | 'count' | 'concurrency' | 'resource' | 'fifth' | 'keepPolling' | 'maxMs'>,
  into: Session[],
  prepare?: (s: Session) => void,
  /** log in through this connection pool instead of the target's (cluster: straight to one node) */
  via?: Transport,
): Promise<LoginResult> {
  const t = via ?? need(transport, 'transport');
  const domain = need(target, 'target').domain;
  const hist = newHist();
  const errors: Record<string, number> = {};
  let sample = '';
  let next = 0;
  let ok = 0;
  let fail = 0;
  const req0 = t.requests;
  const t0 = monoMs();
  const deadline = performance.now() + cmd.maxMs;
  const client = async (): Promise<void> => {
    while (next < cmd.count && performance.now() < deadline) {
      const i = cmd.from + next++;
      const s = new Session(t, userFor(i), domain);
      prepare?.(s);
      const st = performance.now();
      try {
        await s.login(passwordFor(i), cmd.resource, cmd.fifth);
        recordUs(hist, performance.now() - st);
        ok++;
        into.push(s);
        if (cmd.keepPolling) s.startPolling();
      } catch (e) {
        fail++;
        const kind = e instanceof BoshError ? e.kind : 'exception';
        errors[kind] = (errors[kind] ?? 0) + 1;
        if (!sample) sample = e instanceof BoshError ? `${e.kind}: ${e.sample}` : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, client));
  const t1 = monoMs();
  return { ok, fail, errors, sample, t0, t1, hist: hdr.encodeIntoCompressedBase64(hist), requests: t.requests - req0 };
}

async function login(cmd: LoginCmd): Promise<LoginResult> {
  let list = groups.get(cmd.group);
  if (!list) groups.set(cmd.group, (list = []));
  return loginMany(cmd, list);
}

async function terminate(cmd: TerminateCmd): Promise<{ terminated: number }> {
  const list = groups.get(cmd.group) ?? [];
  groups.delete(cmd.group);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const s = list[next++] as Session;
      await s.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, worker));
  return { terminated: list.length };
}

function status(group: string): StatusResult {
  const list = groups.get(group) ?? [];
  const r: StatusResult = {
    sessions: list.length,
    alive: 0,
    outstanding0: 0,
    outstanding1: 0,
    outstanding2: 0,
    quickEmpty: 0,
    dead: {},
    transportInFlight: transport?.inFlight ?? 0,
    transportErrors: transport?.errors ?? 0,
  };
  for (const s of list) {
    r.quickEmpty += s.quickEmpty;
    if (s.dead) {
      const k = s.deadReason.slice(0, 60);
      r.dead[k] = (r.dead[k] ?? 0) + 1;
      continue;
    }
    r.alive++;
    if (s.outstanding === 0) r.outstanding0++;
    else if (s.outstanding === 1) r.outstanding1++;
    else r.outstanding2++;
  }
  return r;
}

// ---------------------------------------------------------------- chat

/** Per-message bookkeeping: every scheduled message ends up received, lost (or late), never silently dropped. */
class Recorder {
  private cap = 1 << 16;
  private sched = new Float64Array(this.cap);
  private sentAt = new Float64Array(this.cap);
  /** 0 = unknown, 1 = scheduled (queued at sender), 2 = on the wire, 3 = received */
  private state = new Uint8Array(this.cap);
  private seq = 0;
  private stepFirst = 0;
  hSend = newHist();
  hSched = newHist();
  pending = 0;
  received = 0;
  duplicates = 0;
  unknown = 0;
  late = 0;
  sent = 0;
  bounced = 0;

  private grow(): void {
    const cap = this.cap * 2;
    const a = new Float64Array(cap);
    a.set(this.sched);
    this.sched = a;
    const b = new Float64Array(cap);
    b.set(this.sentAt);
    this.sentAt = b;
    const c = new Uint8Array(cap);
    c.set(this.state);
    this.state = c;
    this.cap = cap;
  }

  beginStep(): void {
    this.stepFirst = this.seq;
    this.hSend = newHist();
    this.hSched = newHist();
    this.pending = 0;
    this.received = 0;
    this.duplicates = 0;
    this.unknown = 0;
    this.late = 0;
    this.sent = 0;
    this.bounced = 0;
  }

  get scheduled(): number {
    return this.seq - this.stepFirst;
  }

  next(schedAt: number): number {
    if (this.seq >= this.cap) this.grow();
    const s = this.seq++;
    this.sched[s] = schedAt;
    this.state[s] = 1;
    this.pending++;
    return s;
  }

  onSent = (seqs: number[], now: number): void => {
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i] as number;
      this.sentAt[s] = now;
      this.state[s] = 2;
    }
    this.sent += seqs.length;
  };

  onReceive(seq: number, now: number): void {
    if (!(seq >= 0 && seq < this.seq)) {
      this.unknown++;
      return;
    }
    const st = this.state[seq];
    if (st === 3) {
      this.duplicates++;
      return;
    }
    if (st !== 2 && st !== 1) {
      this.unknown++;
      return;
    }
    this.state[seq] = 3;
    if (seq < this.stepFirst) {
      this.late++;
      return;
    }
    this.pending--;
    this.received++;
    const sent = st === 2 ? (this.sentAt[seq] as number) : (this.sched[seq] as number);
    recordUs(this.hSend, now - sent);
    recordUs(this.hSched, now - (this.sched[seq] as number));
  }

  unsentInStep(): number {
    let n = 0;
    for (let s = this.stepFirst; s < this.seq; s++) if (this.state[s] === 1) n++;
    return n;
  }
}

const rec = new Recorder();
let senders: Session[] = [];
let receivers: Session[] = [];

function onReceiverText(_s: Session, text: string): void {
  const now = performance.now();
  let i = text.indexOf('<message');
  while (i >= 0) {
    const e = text.indexOf('>', i);
    if (e < 0) break;
    const id = attr(text, 'id', i, e);
    if (id !== undefined && id.charCodeAt(0) === 98 /* b */ && id.charCodeAt(1) === 109 /* m */) {
      rec.onReceive(Number(id.slice(2)), now);
    }
    i = text.indexOf('<message', e);
  }
}

/** Senders only hear back errors (e.g. a message refused by a rate limit): count them. */
function onSenderText(_s: Session, text: string): void {
  let i = text.indexOf('<message');
  while (i >= 0) {
    const e = text.indexOf('>', i);
    if (e < 0) break;
    if (attr(text, 'type', i, e) === 'error') rec.bounced++;
    i = text.indexOf('<message', e);
  }
}

async function chatSetup(cmd: ChatSetupCmd): Promise<ChatSetupResult> {
  senders = [];
  receivers = [];
  groups.set('chat-senders', senders);
  groups.set('chat-receivers', receivers);
  const base = { concurrency: cmd.concurrency, fifth: cmd.fifth, keepPolling: true, maxMs: 120_000 };
  const r = await loginMany({ ...base, ...cmd.receivers, resource: 'r' }, receivers, (s) => {
    s.events = { onText: onReceiverText };
  });
  const s = await loginMany({ ...base, ...cmd.senders, resource: 's' }, senders, (x) => {
    x.events = { onSent: rec.onSent, onText: onSenderText };
  });
  return { senders: s, receivers: r };
}

async function chatStep(cmd: ChatStepCmd): Promise<ChatStepResult> {
  const S = senders.length;
  const R = receivers.length;
  if (!S || !R) throw new Error('chat not set up');
  rec.beginStep();
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const total = Math.max(1, Math.round((cmd.rate * cmd.durationMs) / 1000));
  const interval = 1000 / cmd.rate;
  const pad = 'x'.repeat(Math.max(0, cmd.bodyBytes - 20));
  let n = 0;
  let maxQueued = 0;
  const req0 = need(transport, 'transport').requests;
  const t0 = monoMs();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      while (n < due) {
        const seq = rec.next(start + n * interval);
        const sender = senders[n % S] as Session;
        const to = receivers[Math.floor(n / S) % R] as Session;
        n++;
        if (sender.dead) continue; // stays "scheduled": counted as unsent/lost
        sender.enqueue(`<message to='${to.jid}' id='bm${seq}' type='chat' xmlns='jabber:client'><body>m${seq} ${pad}</body></message>`, seq);
        if (sender.queued > maxQueued) maxQueued = sender.queued;
      }
      if (n >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const drainEnd = performance.now() + cmd.drainMs;
  while (rec.pending > 0 && performance.now() < drainEnd) await sleep(5);
  const t1 = monoMs();
  eld.disable();
  const scheduled = rec.scheduled;
  const unsent = rec.unsentInStep();
  const res: ChatStepResult = {
    scheduled,
    sent: rec.sent,
    received: rec.received,
    lost: scheduled - rec.received,
    unsent,
    duplicates: rec.duplicates,
    unknown: rec.unknown,
    late: rec.late,
    bounced: rec.bounced,
    histSend: hdr.encodeIntoCompressedBase64(rec.hSend),
    histSched: hdr.encodeIntoCompressedBase64(rec.hSched),
    t0,
    t1,
    deadSenders: senders.filter((s) => s.dead).length,
    deadReceivers: receivers.filter((s) => s.dead).length,
    maxQueued,
    // the histogram holds whole 5 ms timer intervals: keep only the lateness
    eldP99: Math.max(0, eld.percentile(99) / 1e6 - 5),
    eldMax: Math.max(0, eld.max / 1e6 - 5),
    requests: need(transport, 'transport').requests - req0,
  };
  // messages still queued at a sender are abandoned (already counted lost)
  for (const s of senders) s.dropQueue();
  return res;
}

// ---------------------------------------------------------------- cluster: the forwarding hop

/** Connection pools straight to each node (cluster mode), in node order, and each node's host:port. */
let nodeTransports: Transport[] = [];
let nodeHosts: string[] = [];
/** Sessions for the hop measurement and the index of the node holding each. */
let hop: { s: Session; owner: number; busy: boolean }[] = [];

async function closeNodeTransports(): Promise<void> {
  const old = nodeTransports;
  nodeTransports = [];
  nodeHosts = [];
  hop = [];
  await Promise.all(old.map((t) => t.close()));
}

async function hopSetup(cmd: HopSetupCmd): Promise<HopSetupResult> {
  const tg = need(target, 'target');
  await closeNodeTransports();
  nodeTransports = cmd.nodes.map((o) => new Transport(o, tg.path));
  nodeHosts = cmd.nodes.map((o) => new URL(o).host);
  const perNode: number[] = [];
  const all: LoginResult[] = [];
  const lists: Session[][] = [];
  for (let i = 0; i < cmd.nodes.length; i++) {
    const into: Session[] = [];
    all.push(
      await loginMany(
        {
          from: cmd.from + i * cmd.perNode,
          count: cmd.perNode,
          concurrency: cmd.concurrency,
          resource: 'hop',
          fifth: cmd.fifth,
          keepPolling: false,
          maxMs: 60_000,
        },
        into,
        undefined,
        nodeTransports[i],
      ),
    );
    perNode.push(into.length);
    lists.push(into);
  }
  // interleaved, so that consecutive pings come from sessions on different nodes
  for (let j = 0; j < cmd.perNode; j++) {
    lists.forEach((l, i) => {
      const s = l[j];
      if (s) hop.push({ s, owner: i, busy: false });
    });
  }
  const login: LoginResult = {
    ok: all.reduce((a, r) => a + r.ok, 0),
    fail: all.reduce((a, r) => a + r.fail, 0),
    errors: Object.assign({}, ...all.map((r) => r.errors)) as Record<string, number>,
    sample: all.find((r) => r.sample)?.sample ?? '',
    t0: Math.min(...all.map((r) => r.t0)),
    t1: Math.max(...all.map((r) => r.t1)),
    hist: all[0]?.hist ?? '',
    requests: all.reduce((a, r) => a + r.requests, 0),
  };
  return { login, perNode };
}

async function hopStep(cmd: HopStepCmd): Promise<HopStepResult> {
  const viaNginx = need(transport, 'transport');
  const domain = need(target, 'target').domain;
  const N = nodeTransports.length;
  if (!hop.length || N < 2) throw new Error('hop not set up');
  const h = { direct: newHist(), forwarded: newHist(), nginxDirect: newHist(), nginxForwarded: newHist() };
  const errors: Record<string, number> = {};
  let sample = '';
  let sent = 0;
  let answered = 0;
  let skipped = 0;
  let pending = 0;
  let cursor = 0;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const fail = (x: (typeof hop)[number], kind: string, text: string): void => {
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (!sample) sample = `${kind}: ${text.slice(0, 300)}`;
    // a session whose request failed may have lost its rid sequence: leave it out from now on
    x.s.dead = true;
  };
  const ping = (k: number): void => {
    let x: (typeof hop)[number] | undefined;
    for (let tries = 0; tries < hop.length; tries++) {
      const c = hop[cursor++ % hop.length] as (typeof hop)[number];
      if (!c.busy && !c.s.dead) {
        x = c;
        break;
      }
    }
    if (!x) {
      skipped++;
      return;
    }
    const sess = x;
    // in turn: the holder, another node (each of the others in turn), nginx
    const route = k % 3;
    const other = (sess.owner + 1 + (Math.floor(k / 3) % (N - 1))) % N;
    const via = route === 0 ? (nodeTransports[sess.owner] as Transport) : route === 1 ? (nodeTransports[other] as Transport) : viaNginx;
    const id = `h${k}`;
    const body = `<body rid='${++sess.s.rid}' sid='${sess.s.sid}' xmlns='${HTTPBIND_NS}'><iq type='get' id='${id}' to='${domain}' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq></body>`;
    sess.busy = true;
    pending++;
    sent++;
    const st = performance.now();
    via.post(body, (err, status, text, upstream) => {
      const rtt = performance.now() - st;
      sess.busy = false;
      pending--;
      if (err) return fail(sess, 'http-error', err.message);
      if (status !== 200) return fail(sess, `http-${status}`, text);
      if (attr(bodyTagOf(text), 'type') === 'terminate') return fail(sess, `terminate:${attr(bodyTagOf(text), 'condition') ?? ''}`, text);
      if (text.indexOf(`'${id}'`) < 0 && text.indexOf(`"${id}"`) < 0) return fail(sess, 'no-ping-result', text);
      answered++;
      const hist = route === 0 ? h.direct : route === 1 ? h.forwarded : upstream === nodeHosts[sess.owner] ? h.nginxDirect : h.nginxForwarded;
      recordUs(hist, rtt);
    });
  };
  const total = Math.max(1, Math.round((cmd.rate * cmd.durationMs) / 1000));
  const interval = 1000 / cmd.rate;
  const start = performance.now();
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (n < due) ping(n++);
      if (n >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const drainEnd = performance.now() + cmd.drainMs;
  while (pending > 0 && performance.now() < drainEnd) await sleep(5);
  eld.disable();
  if (pending > 0) errors['unanswered'] = (errors['unanswered'] ?? 0) + pending;
  return {
    direct: hdr.encodeIntoCompressedBase64(h.direct),
    forwarded: hdr.encodeIntoCompressedBase64(h.forwarded),
    nginxDirect: hdr.encodeIntoCompressedBase64(h.nginxDirect),
    nginxForwarded: hdr.encodeIntoCompressedBase64(h.nginxForwarded),
    sent,
    answered,
    skipped,
    errors,
    sample,
    eldP99: Math.max(0, eld.percentile(99) / 1e6 - 5),
  };
}

// ---------------------------------------------------------------- plumbing

async function retarget(t: TargetCmd | undefined): Promise<void> {
  for (const list of groups.values()) for (const s of list) s.stopPolling();
  groups.clear();
  senders = [];
  receivers = [];
  await closeNodeTransports();
  const old = transport;
  transport = undefined;
  if (old) await old.close();
  target = t;
  // through nginx, its X-Bosh-Upstream header names the node that answered (cluster mode)
  if (t) transport = new Transport(t.origin, t.path, 'x-bosh-upstream');
}

async function handle(req: Request): Promise<unknown> {
  const cmd = req.cmd;
  switch (cmd.type) {
    case 'init':
      setTimeout(() => {
        process.stderr.write(`bench worker ${cmd.workerId}: lifetime exceeded, exiting\n`);
        process.exit(3);
      }, cmd.lifetimeMs).unref();
      return { pid: process.pid };
    case 'login':
      return login(cmd);
    case 'terminate':
      return terminate(cmd);
    case 'status':
      return status(cmd.group);
    case 'chatSetup':
      return chatSetup(cmd);
    case 'chatStep':
      return chatStep(cmd);
    case 'target':
      await retarget(cmd);
      return {};
    case 'reset':
      await retarget(undefined);
      return {};
    case 'hopSetup':
      return hopSetup(cmd);
    case 'hopStep':
      return hopStep(cmd);
    default:
      throw new Error(`unknown command ${(cmd as { type: string }).type}`);
  }
}

process.on('message', (m: Request) => {
  handle(m).then(
    (data) => process.send?.({ id: m.id, ok: true, data } satisfies Reply),
    (e: unknown) => process.send?.({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));
