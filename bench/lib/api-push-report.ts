// The business API figures: their section of docs/performance.md (between markers, so runs without the api phase
// keep it as it is).
import type { ApiPushResult } from './api-push';
import { keptSection, spliceSection } from './doc-section';

export const API_START = "<!-- api:start (written by the bench's api phase; runs without it keep this section) -->";
export const API_END = '<!-- api:end -->';

/** Targets (issue: the business API): the fan-out within 1 s, and at 100 pushes/s p99 ≤ 10 ms (API) and ≤ 20 ms (arrival). */
export const API_TARGETS = { fanoutMs: 1_000, apiP99Ms: 10, arrivalP99Ms: 20 };

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const met = (ok: boolean): string => (ok ? 'yes' : '**no**');

/** `busy`: % of the machine other processes used just before the phase (figures are low when it is high). */
export function renderApiSection(r: ApiPushResult, when: string, command: string, busy?: number): string {
  const { fanout: fo, steady: st } = r;
  const fanoutOk = fo.arrived === fo.recipients && fo.lastMs <= API_TARGETS.fanoutMs;
  return [
    API_START,
    '## Business API: control fan-out and pushes',
    '',
    `Measured ${when} with \`${command}\`, one node (a server process of its own), ${r.users} prebound BOSH sessions that`,
    'keep one request held (POST /sessions, then initial presence), driven from the bench process over loopback.',
    ...(busy !== undefined && busy > 25
      ? ['', `**The machine was ${busy.toFixed(0)}% busy with other processes before this phase: the figures are lower than an idle machine gives.**`]
      : []),
    '',
    '| figure | result | target | met |',
    '|---|---|---|---|',
    `| one POST /control to ${fo.recipients} online users: last arrival after the call was sent | ${f(fo.lastMs, 0)} ms (first ${f(fo.firstMs, 0)} ms, median ${f(fo.p50Ms, 0)} ms; the call itself ${f(fo.apiMs, 0)} ms; ${fo.arrived}/${fo.recipients} arrived, ${fo.delivered} reported delivered) | ≤ ${API_TARGETS.fanoutMs} ms, all | ${met(fanoutOk)} |`,
    `| ${st.rate} single-recipient pushes/s for ${st.seconds} s: API latency p50 / p99 | ${f(st.apiP50Ms)} / ${f(st.apiP99Ms)} ms | p99 ≤ ${API_TARGETS.apiP99Ms} ms | ${met(st.apiP99Ms <= API_TARGETS.apiP99Ms)} |`,
    `| the same: push-to-arrival p50 / p99 (${st.arrived}/${st.sent} arrived, ${st.delivered} reported delivered) | ${f(st.arrivalP50Ms)} / ${f(st.arrivalP99Ms)} ms | p99 ≤ ${API_TARGETS.arrivalP99Ms} ms | ${met(st.arrivalP99Ms <= API_TARGETS.arrivalP99Ms && st.arrived === st.sent)} |`,
    '',
    'Arrival is when the page read the response carrying the control message; the fan-out is routed in one call, and the',
    'held requests are answered as the router hands each session its message (src/api/push-delivery.ts). Arrival times',
    'include the bench process reading 1,000 responses and sending 1,000 new polls on one core.',
    API_END,
  ].join('\n');
}

export function keptApiSection(existing: string): string {
  return keptSection(existing, API_START, API_END);
}

export function spliceApiSection(existing: string, section: string): string {
  return spliceSection(existing, section, API_START, API_END, ['## Generator or server', '## How to run']);
}
