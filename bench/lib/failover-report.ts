// The cluster's failover figures: console lines and their section of docs/performance.md.
import { keptSection, spliceSection } from './doc-section';
import type { FailoverResult } from './failover';

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'not within the bound');

export function failoverLines(f: FailoverResult): string[] {
  return [
    `a node SIGKILLed: its session's sid answered with a terminal condition by a live node after ${s(f.terminalMs)}` +
      `${f.terminalCondition ? ` (${f.terminalCondition})` : ''}` +
      (Object.keys(f.answersBefore).length
        ? `; answers before it ${JSON.stringify(f.answersBefore)}`
        : '; it was the answer to the first request sent after the kill'),
    `the reaper removed the dead node's session from Redis after ${s(f.reapedMs)} (HEARTBEAT_MS ${f.heartbeatMs}, NODE_TTL_MS ${f.nodeTtlMs})`,
    `Redis restarted (down ${s(f.redisDownMs)}, back empty): cross-node chat between sessions that stayed logged in resumed ${s(f.chatResumedMs)} after it accepted connections (${f.chatAttempts} attempts, one every 0.5 s)`,
    ...f.notes,
  ];
}

export const FAILOVER_START = '<!-- failover:start (written by `npm run bench -- --cluster --phases=failover` or a full run; other runs keep it) -->';
export const FAILOVER_END = '<!-- failover:end -->';

export function keptFailoverSection(existing: string): string {
  return keptSection(existing, FAILOVER_START, FAILOVER_END);
}

/** Right after the cluster section (before "## How to run") when the file has none yet. */
export function spliceFailoverSection(existing: string, section: string): string {
  return spliceSection(existing, section, FAILOVER_START, FAILOVER_END, ['## How to run']);
}

export function renderFailoverSection(f: FailoverResult, when: string, command: string): string {
  return [
    FAILOVER_START,
    '## Cluster failover',
    '',
    `Measured ${when.slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on ${f.nodes} nodes behind nginx and one Redis. ` +
      'Three sessions are logged in straight at nodes 1, 2 and 3 and keep a request held. Node 2 is SIGKILLed; the bench then ' +
      "posts an empty body for its session to node 1 every 0.1 s (what nginx does with the client's next request) until one " +
      'is answered with a terminal condition, and watches `bosh:sid:<sid>` in Redis. Then redis-server is stopped, kept down ' +
      `${s(f.redisDownMs)} and started empty on the same port; the session on node 1 sends a chat message to the one on ` +
      'node 3 every 0.5 s until one arrives. None of these is a test: the e2e suite checks that each happens, this records how long it takes.',
    '',
    ...failoverLines(f).map((l) => `- ${l[0]?.toUpperCase()}${l.slice(1)}.`),
    FAILOVER_END,
  ].join('\n');
}
