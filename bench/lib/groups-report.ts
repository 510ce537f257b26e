// The groups-and-history figures (rooms and message archive pages): their sections of docs/performance.md, each
// between markers, so that a run without the phase keeps it as it is.
import type { ArchivePagesResult } from './archive-pages';
import type { CpuReport } from './cpu';
import { keptSection, spliceSection } from './doc-section';
import type { RoomResult } from './room';

/** Targets (issue: groups and history): a room of 200 at 10 messages/s p99 ≤ 50 ms; one MAM page of 50 from 1,000,000 p99 ≤ 20 ms. */
export const GROUPS_TARGETS = { roomP99Ms: 50, mamP99Ms: 20 };

/** The room phase's result, with the CPU used while the messages went out and the machine's load before it. */
export interface RoomPhaseResult extends RoomResult {
  cpu?: CpuReport;
  busy?: number;
}

export interface MamPhaseResult extends ArchivePagesResult {
  busy?: number;
}

export const ROOM_START = "<!-- room:start (written by the bench's room phase; runs without it keep this section) -->";
export const ROOM_END = '<!-- room:end -->';
export const MAM_START = "<!-- mam:start (written by the bench's mam phase; runs without it keep this section) -->";
export const MAM_END = '<!-- mam:end -->';
export const CLUSTER_ROOM_START = "<!-- cluster-room:start (written by the cluster suite's room phase; runs without it keep this section) -->";
export const CLUSTER_ROOM_END = '<!-- cluster-room:end -->';

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const n0 = (n: number): string => n.toLocaleString('en-US');
const met = (ok: boolean): string => (ok ? 'yes' : '**no**');
const stamp = (when: string): string => `${when.slice(0, 16).replace('T', ' ')} UTC`;

function busyNote(busy: number | undefined): string[] {
  return busy !== undefined && busy > 25
    ? ['', `**The machine was ${busy.toFixed(0)}% busy with other processes before this phase: the figures are lower than an idle machine gives.**`]
    : [];
}

/** Who used the CPU while the messages went out: the gateway process(es), Redis and nginx in a cluster, the bench's clients. */
export function roomCpuText(cpu: CpuReport | undefined): string {
  if (!cpu) return 'n/a';
  const pct = (name: RegExp, main = true): string =>
    cpu.procs
      .filter((p) => name.test(p.name))
      .map((p) => `${f(main ? p.mainAvg : p.avg, 0)}%`)
      .join(' + ');
  const nodes = pct(/^node\d+$/);
  const gateway = nodes ? `nodes ${nodes}, redis ${pct(/^redis$/, false) || 'n/a'}, nginx ${pct(/^nginx\d+$/, false) || 'n/a'}` : `server ${pct(/^server$/)}`;
  return `${gateway} (main threads, % of one core), the clients (bench process) ${pct(/^bench$/)}, other processes ${f(cpu.other, 0)}%`;
}

function roomRows(r: RoomPhaseResult, target: boolean): string[] {
  const all = r.delivered === r.expected && r.deadSessions === 0;
  return [
    '| figure | result | target | met |',
    '|---|---|---|---|',
    `| send-to-arrival p99 over every delivery (p50, max) | **${f(r.p99Ms)} ms** (${f(r.p50Ms)}, ${f(r.maxMs)} ms) | ${target ? `≤ ${GROUPS_TARGETS.roomP99Ms} ms` : 'reported'} | ${target ? met(r.p99Ms <= GROUPS_TARGETS.roomP99Ms && all) : '—'} |`,
    `| deliveries arrived | ${n0(r.delivered)} of ${n0(r.expected)} (${n0(r.sent)} messages × ${r.occupants}) | all | ${met(all)} |`,
    `| CPU while the messages went out | ${roomCpuText(r.cpu)} | — | — |`,
  ];
}

export function renderRoomSection(r: RoomPhaseResult, when: string, command: string): string {
  return [
    ROOM_START,
    `## Rooms: ${r.occupants} occupants, ${r.rate} messages/s`,
    '',
    `Measured ${stamp(when)} with \`${command}\`, one node (a server process of its own, SQLite store, archiving on): ${r.occupants}`,
    `BOSH sessions in one room (XEP-0045), each keeping one request held, and ${r.rate} room messages a second from the occupants`,
    `in turn for ${r.seconds} s: ${n0(r.rate * r.occupants)} deliveries a second. Time from the request carrying a message leaving`,
    'the bench to the response carrying it reaching each occupant (hdr-histogram, every delivery); the clients run in the',
    `bench's own process over loopback. Setting up (logins, entering the room) took ${f(r.setupSeconds)} s and is not measured.`,
    ...busyNote(r.busy),
    '',
    ...roomRows(r, true),
    ROOM_END,
  ].join('\n');
}

export function renderClusterRoomSection(r: RoomPhaseResult, nodes: number, when: string, command: string): string {
  return [
    CLUSTER_ROOM_START,
    `## Cluster: a room of ${r.occupants} occupants on ${nodes} nodes`,
    '',
    `Measured ${stamp(when)} with \`${command}\`: the room test above on ${nodes} nodes behind nginx (round robin, so each`,
    `node holds about a third of the occupants) and one Redis, all on this machine. Each room message is archived once and`,
    'goes to each node that has occupants as one bus message carrying the stanza and the JIDs of the occupants there',
    `(src/muc/bus-delivery.ts). ${r.rate} messages a second for ${r.seconds} s; setting up took ${f(r.setupSeconds)} s.`,
    ...busyNote(r.busy),
    '',
    ...roomRows(r, false),
    CLUSTER_ROOM_END,
  ].join('\n');
}

export function renderMamSection(r: MamPhaseResult, when: string, command: string): string {
  const headline = r.figures.find((x) => x.what.startsWith('latest page, query + 50'));
  const worst = Math.max(...r.figures.map((x) => x.p99));
  return [
    MAM_START,
    `## Message archive: one page of 50 from ${n0(r.rows)} messages`,
    '',
    `Measured ${stamp(when)} with \`${command}\`: an archive of ${n0(r.rows)} messages of one user over ${n0(r.conversations)} conversations,`,
    `generated inside SQLite (a recursive CTE, ${f(r.generatedSeconds)} s, ${f(r.databaseMiB, 0)} MiB), then ${n0(r.pages)} pages of 50 of each kind`,
    'through the SQLite archive store in the bench process (after 100 warm-up pages each), one at a time: no HTTP, no session.',
    ...busyNote(r.busy),
    '',
    '| one page of 50 | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|',
    ...r.figures.map((x) => `| ${x.what} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${f(x.max, 1)} |`),
    '',
    `Target p99 ≤ ${GROUPS_TARGETS.mamP99Ms} ms for a page: ${met(worst <= GROUPS_TARGETS.mamP99Ms)} (latest page with its messages rendered: p99 ${f(headline?.p99 ?? NaN, 2)} ms; the slowest kind: ${f(worst, 2)} ms).`,
    MAM_END,
  ].join('\n');
}

export const keptRoomSection = (existing: string): string => keptSection(existing, ROOM_START, ROOM_END);
export const keptMamSection = (existing: string): string => keptSection(existing, MAM_START, MAM_END);
export const keptClusterRoomSection = (existing: string): string => keptSection(existing, CLUSTER_ROOM_START, CLUSTER_ROOM_END);

export const spliceRoomSection = (existing: string, section: string): string =>
  spliceSection(existing, section, ROOM_START, ROOM_END, ['## Generator or server', '## How to run']);
export const spliceMamSection = (existing: string, section: string): string =>
  spliceSection(existing, section, MAM_START, MAM_END, ['## Generator or server', '## How to run']);
export const spliceClusterRoomSection = (existing: string, section: string): string =>
  spliceSection(existing, section, CLUSTER_ROOM_START, CLUSTER_ROOM_END, ['## How to run']);

/** Puts every section given (or kept from `existing`, when a full rewrite dropped it) into `text`. */
export function spliceGroupsSections(text: string, existing: string, fresh: { room?: string; mam?: string; clusterRoom?: string }): string {
  let out = text;
  const room = fresh.room ?? keptRoomSection(existing);
  const mam = fresh.mam ?? keptMamSection(existing);
  const clusterRoom = fresh.clusterRoom ?? keptClusterRoomSection(existing);
  if (room) out = spliceRoomSection(out, room);
  if (mam) out = spliceMamSection(out, mam);
  if (clusterRoom) out = spliceClusterRoomSection(out, clusterRoom);
  return out;
}
