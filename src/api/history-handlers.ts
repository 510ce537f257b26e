import { Router as ExpressRouter } from 'express';
import { makeJid } from '../base/jid';
import type { GroupService } from '../muc/group-service';
import { chatConversation, roomConversation } from '../store/archive-store';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import { groupIdParam, groupsOf } from './group-handlers';
import type { HistoryReader } from './history-reader';
import { GroupHistoryQuery, UserHistoryQuery } from './history-schemas';
import { resolveUser } from './recipients';
import { usernameParam } from './users-handlers';
import { validate } from './validation';

export interface HistoryLimits {
  /** Messages in a page when the call gives no limit (API_HISTORY_DEFAULT_LIMIT). */
  readonly default: number;
  /** The largest limit accepted (API_HISTORY_MAX_LIMIT). */
  readonly max: number;
}

export interface HistoryDependencies {
  readonly domain: string;
  readonly accounts: AccountStore;
  readonly groups: GroupService | undefined;
  readonly reader: HistoryReader;
  readonly limits: HistoryLimits;
}

function limitOf(limit: number | undefined, limits: HistoryLimits): number {
  if (limit === undefined) return limits.default;
  if (limit > limits.max) throw new ApiError('invalid_parameter', `limit: at most ${limits.max} (API_HISTORY_MAX_LIMIT)`, 'limit');
  return limit;
}

/**
 * History pulls from the message archive (docs/api.md, "History"): a user's conversations, or one of
 * them (`with`), and a group's messages, each with its sequence number and archive id. Scope `history`.
 */
export function historyRoutes(deps: HistoryDependencies): ExpressRouter {
  const routes = ExpressRouter();
  const scope = requireScope('history');

  routes.get('/users/:username/history', scope, async (req, res) => {
    const username = usernameParam(req.params.username);
    const query = validate(UserHistoryQuery, req.query, 'invalid_parameter');
    const limit = limitOf(query.limit, deps.limits);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    const owner = makeJid(username, deps.domain).bare;
    let other: string | undefined;
    if (query.with !== undefined) {
      const jid = resolveUser(query.with, deps.domain, 'with', 'invalid_parameter');
      if (jid.resource !== '') throw new ApiError('invalid_parameter', 'with: a user, not one of their sessions', 'with');
      other = jid.bare;
    }
    const scopeOf = other === undefined ? { owner } : { owner, with: other, conversation: chatConversation(owner, other) };
    res.json(await deps.reader.page(scopeOf, { after: query.after, before: query.before, limit }));
  });

  routes.get('/groups/:id/history', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const id = groupIdParam(req.params.id);
    const query = validate(GroupHistoryQuery, req.query, 'invalid_parameter');
    const limit = limitOf(query.limit, deps.limits);
    const group = await groups.get(id);
    if (!group) throw new ApiError('group_not_found', `no group ${id}`);
    res.json(await deps.reader.page({ owner: group.jid, conversation: roomConversation(group.jid) }, { after: query.after, before: query.before, limit }));
  });

  return routes;
}
