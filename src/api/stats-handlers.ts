import { Router as ExpressRouter } from 'express';
import { requireScope } from './authentication';
import type { PushStatistics } from './push-statistics';

export interface StatsDependencies {
  readonly node: string;
  readonly statistics: PushStatistics;
  /** Users with a bound session on this node, and those sessions. */
  readonly online: () => { users: number; sessions: number };
  readonly boshSessions: () => number;
}

/** GET /stats: push counts per application and overall, and who is online, on the node that answers. Scope `stats`. */
export function statsRoutes(deps: StatsDependencies): ExpressRouter {
  const routes = ExpressRouter();
  routes.get('/stats', requireScope('stats'), (_req, res) => {
    const online = deps.online();
    res.json({
      node: deps.node,
      since: deps.statistics.since.toISOString(),
      applications: deps.statistics.applications(),
      total: deps.statistics.total(),
      online: { users: online.users, sessions: online.sessions, bosh_sessions: deps.boshSessions() },
    });
  });
  return routes;
}
