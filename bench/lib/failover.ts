// Failover figures of the cluster, measured on live sessions logged in straight at the nodes: after SIGKILL of
// the node holding a session, how long until another node answers that sid with a terminal condition and until
// the reaper has removed it from Redis; after a Redis restart (empty), how long until two sessions that stayed
// logged in on different nodes chat again.
import { BoshError, Session, Transport } from './bosh';
import type { Cluster } from './cluster';
import { passwordFor, userFor } from './protocol';
import { attr, bodyTag, HTTPBIND_NS } from './xml';

export interface FailoverResult {
  nodes: number;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** from the SIGKILL to the first terminal answer for the dead node's sid from a live node */
  terminalMs: number;
  terminalCondition: string;
  /** the answers before it, by kind (recoverable ones: the client resends the same rid) */
  answersBefore: Record<string, number>;
  /** from the SIGKILL until bosh:sid:<sid> is gone from Redis */
  reapedMs: number;
  redisDownMs: number;
  /** from redis-server accepting connections again until the first cross-node chat arrived */
  chatResumedMs: number;
  chatAttempts: number;
  notes: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'no answer'>((r) => (timer = setTimeout(() => r('no answer'), ms)))]).finally(() => clearTimeout(timer));
}

async function online(t: Transport, account: number, domain: string): Promise<Session> {
  const s = new Session(t, userFor(account), domain);
  await s.login(passwordFor(account), 'failover', 'both');
  s.startPolling();
  return s;
}

export interface FailoverOptions {
  path: string;
  domain: string;
  /** first of the three accounts used */
  account: number;
  heartbeatMs: number;
  nodeTtlMs: number;
  redisDownMs: number;
  /** bound of each wait */
  boundMs: number;
}

export async function runFailover(cluster: Cluster, o: FailoverOptions): Promise<FailoverResult> {
  if (cluster.nodes.length < 3) throw new Error('the failover phase needs at least 3 nodes');
  const transports = cluster.nodes.slice(0, 3).map((n) => new Transport(n.origin, o.path));
  const [t1, t2, t3] = transports as [Transport, Transport, Transport];
  const notes: string[] = [];
  try {
    // a on node1 and c on node3 stay; b's node2 is killed
    const a = await online(t1, o.account, o.domain);
    const b = await online(t2, o.account + 1, o.domain);
    const c = await online(t3, o.account + 2, o.domain);

    // ---- a node dies
    const killedAt = performance.now();
    (cluster.nodes[1] as (typeof cluster.nodes)[number]).killNow();
    const answersBefore: Record<string, number> = {};
    let terminalMs = NaN;
    let terminalCondition = '';
    let rid = b.rid + 10;
    while (performance.now() - killedAt < o.boundMs) {
      const answer = await bounded(t1.postAsync(`<body rid='${rid}' sid='${b.sid}' xmlns='${HTTPBIND_NS}'/>`), 5_000).catch((e: unknown) =>
        e instanceof BoshError ? e.kind : 'error',
      );
      if (answer !== 'no answer' && answer.startsWith('<')) {
        const tag = bodyTag(answer);
        if (attr(tag, 'type') === 'terminate') {
          terminalMs = performance.now() - killedAt;
          terminalCondition = attr(tag, 'condition') ?? '';
          break;
        }
        // an answer that is not terminal took the rid: the next probe uses the next one
        rid++;
        answersBefore['non-terminal body'] = (answersBefore['non-terminal body'] ?? 0) + 1;
      } else {
        answersBefore[answer] = (answersBefore[answer] ?? 0) + 1;
      }
      await sleep(100);
    }
    let reapedMs = NaN;
    while (performance.now() - killedAt < o.boundMs) {
      if (!(await cluster.redis.exists(`bosh:sid:${b.sid}`))) {
        reapedMs = performance.now() - killedAt;
        break;
      }
      await sleep(50);
    }
    if (!Number.isFinite(terminalMs))
      notes.push(`no terminal answer for the dead node's sid within ${o.boundMs / 1000} s (answers: ${JSON.stringify(answersBefore)})`);
    if (!Number.isFinite(reapedMs)) notes.push(`bosh:sid of the dead node's session still in Redis after ${o.boundMs / 1000} s`);

    // ---- Redis restarts, empty
    let arrivedAt = 0;
    c.events = {
      onText: (_s, text) => {
        if (!arrivedAt && text.includes('failover-resume-')) arrivedAt = performance.now();
      },
    };
    const back = await cluster.restartRedis(o.redisDownMs);
    let attempts = 0;
    while (!arrivedAt && performance.now() - back < o.boundMs && !a.dead && !c.dead) {
      attempts++;
      a.enqueue(`<message to='${c.jid}' type='chat' xmlns='jabber:client'><body>failover-resume-${attempts}</body></message>`, attempts);
      const until = performance.now() + 500;
      while (!arrivedAt && performance.now() < until) await sleep(10);
    }
    if (a.dead || c.dead)
      notes.push(
        `a session ended during the Redis restart: ${[a, c]
          .filter((s) => s.dead)
          .map((s) => s.deadReason)
          .join(', ')}`,
      );
    if (!arrivedAt) notes.push(`no cross-node chat within ${o.boundMs / 1000} s of Redis coming back (${attempts} attempts)`);
    await Promise.all([a.terminate(), c.terminate()]);
    return {
      nodes: cluster.nodes.length,
      heartbeatMs: o.heartbeatMs,
      nodeTtlMs: o.nodeTtlMs,
      terminalMs,
      terminalCondition,
      answersBefore,
      reapedMs,
      redisDownMs: o.redisDownMs,
      chatResumedMs: arrivedAt ? arrivedAt - back : NaN,
      chatAttempts: attempts,
      notes,
    };
  } finally {
    await Promise.all([t1.close(), t2.close(), t3.close()]);
  }
}
