/**
 * The cluster as deployed, for suites that only need it running: a real redis-server, N gateway
 * node processes (cluster mode) and a real nginx in front of them (round-robin, no stickiness,
 * `proxy_next_upstream off`), everything on free loopback ports under one temporary directory.
 * `stop()` kills every process group it started and reports anything that survived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, TestRedis } from '../../support/redis-server';
import { NginxLoadBalancer } from './nginx';
import { ClusterNodeProcess } from './node-process';
import { rawRequest } from './raw-http';
import type { GroupMember } from './process-group';

export interface ClusterOptions {
  /** `user:password` pairs, comma-separated (USERS). */
  readonly users: string;
  readonly nodeCount?: number;
  /** BOSH_MAX_WAIT of every node (nginx's read timeout is set above it). */
  readonly maxWaitSeconds?: number;
  readonly extraEnv?: Record<string, string>;
}

export interface RunningCluster {
  readonly redis: TestRedis;
  readonly nodes: readonly ClusterNodeProcess[];
  readonly nginx: NginxLoadBalancer;
  /** BOSH through nginx. */
  readonly boshUrl: string;
  /** What nginx and the nodes saw, for failure messages. */
  evidence(): string;
  /** Kills everything; returns what survived a process-group SIGKILL (should be nothing). */
  stop(): Promise<Array<{ what: string; left: GroupMember[] }>>;
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bosh-cluster-e2e-'));
  const maxWait = options.maxWaitSeconds ?? 60;
  const redis = await TestRedis.start();
  const nodes: ClusterNodeProcess[] = [];
  let nginx: NginxLoadBalancer | undefined;
  const stop = async (): Promise<Array<{ what: string; left: GroupMember[] }>> => {
    const leftovers: Array<{ what: string; left: GroupMember[] }> = [];
    if (nginx) leftovers.push({ what: 'nginx', left: await nginx.stop() });
    for (const node of nodes) leftovers.push({ what: `node ${node.id}`, left: await node.kill() });
    await redis.stop();
    if (!process.env.E2E_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    return leftovers.filter((l) => l.left.length > 0);
  };
  try {
    const ports = await Promise.all(Array.from({ length: options.nodeCount ?? 3 }, () => freePort()));
    const started = await Promise.all(
      ports.map((port, i) =>
        ClusterNodeProcess.start({
          id: `node-${String.fromCharCode(97 + i)}`,
          port,
          redisUrl: redis.url,
          secret: 'cluster-clients-e2e-secret-0123',
          users: options.users,
          logDir: dir,
          heartbeatMs: 500,
          nodeTtlMs: 2000,
          extraEnv: { BOSH_MAX_WAIT: String(maxWait), ...options.extraEnv },
        }),
      ),
    );
    nodes.push(...started);
    nginx = await NginxLoadBalancer.start({
      dir: join(dir, 'nginx'),
      port: await freePort(),
      upstreamPorts: ports,
      boshMaxWaitSeconds: maxWait,
      maxFails: 1,
      failTimeoutSeconds: 3,
    });
    const health = await rawRequest(`${nginx.url}/healthz`, 'GET');
    if (health.status !== 200) throw new Error(`GET /healthz through nginx answered ${health.status}`);
  } catch (err) {
    await stop();
    throw err;
  }
  const balancer = nginx;
  return {
    redis,
    nodes,
    nginx: balancer,
    boshUrl: balancer.boshUrl,
    stop,
    evidence: () => {
      const log = balancer.accessLog().slice(-30);
      const parts = [
        `--- nginx access log (last ${log.length}) ---\n${log
          .map((e) => `${new Date(Number(e.msec) * 1000).toISOString().slice(11, 23)} ${e.upstream || '-'} ${e.status} ${e.body.slice(0, 140)}`)
          .join('\n')}`,
      ];
      for (const node of nodes) {
        const notable = node
          .logRecords()
          .filter((r) => Number(r.level) >= 40)
          .slice(-8)
          .map((r) => JSON.stringify(r));
        parts.push(`--- node ${node.id} :${node.port} (${node.process.exitDescription}) warnings ---\n${notable.join('\n')}`);
      }
      return parts.join('\n\n');
    },
  };
}
