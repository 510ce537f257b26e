import { Router as ExpressRouter } from 'express';
import type { z } from 'zod';
import { normaliseLocal, parseJid } from '../base/jid';
import type { Group as GroupState, GroupService } from '../muc/group-service';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import { CreateGroup, GroupId, type Group } from './group-schemas';
import { resolveUser } from './recipients';
import { usernameParam } from './users-handlers';
import { validate } from './validation';

export interface GroupDependencies {
  readonly domain: string;
  readonly accounts: AccountStore;
  /** Undefined when the MUC service is off (MUC_ENABLED=false): every call answers groups_unavailable. */
  readonly groups: GroupService | undefined;
  /** Members named in one POST /groups (API_MAX_RECIPIENTS). */
  readonly maxMembers: number;
}

/** The group id of the path, validated (a 400 naming the parameter, not a 404). */
export function groupIdParam(value: unknown): string {
  return validate(GroupId, value, 'invalid_parameter', 'id');
}

/** The groups service, or 400 groups_unavailable when the node runs without MUC. */
export function groupsOf(groups: GroupService | undefined): GroupService {
  if (!groups) throw new ApiError('groups_unavailable', 'groups need the MUC service, which is off on this gateway (MUC_ENABLED=false)');
  return groups;
}

/** A username or bare JID of this domain naming an existing user, for a body field; 400 otherwise. */
async function existingUser(deps: GroupDependencies, entry: string, field: string): Promise<string> {
  const jid = resolveUser(entry, deps.domain, field);
  if (jid.resource !== '') throw new ApiError('invalid_body', `${field}: a user, not one of their sessions (${entry})`, field);
  if (!(await deps.accounts.exists(jid.local))) throw new ApiError('invalid_body', `${field}: no user ${jid.local}`, field);
  return jid.bare;
}

/** The group as the API shows it: members by username, the gateway's own JID (owner of unowned groups) left out. */
export function groupBody(group: GroupState, groups: GroupService, domain: string): z.infer<typeof Group> {
  const members = group.members
    .filter((m) => m.jid !== groups.serviceJid)
    .map((m) => {
      const jid = parseJid(m.jid);
      const username = jid && jid.domain === domain && jid.local !== '' ? jid.local : null;
      return { username, jid: m.jid, affiliation: m.affiliation as 'owner' | 'admin' | 'member' };
    });
  const owner = members.find((m) => m.affiliation === 'owner' && m.username !== null)?.username ?? null;
  return { id: group.id, jid: group.jid, name: group.name, owner, members };
}

/**
 * /groups: groups are members-only persistent rooms of the MUC service (docs/groups-and-history.md).
 * Create, read, add and remove members, delete; and a user's groups. Scope `groups`. Every change goes
 * through the MUC service's own paths (src/muc/group-service.ts), on any node.
 */
export function groupRoutes(deps: GroupDependencies): ExpressRouter {
  const routes = ExpressRouter();
  const scope = requireScope('groups');

  routes.post('/groups', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const body = validate(CreateGroup, req.body);
    const id = body.id ?? (normaliseLocal(body.name) === body.name ? body.name : undefined);
    if (id === undefined) throw new ApiError('invalid_body', `id: '${body.name}' is not a valid group id; give an id (lower case, no spaces)`, 'id');
    if (body.members.length > deps.maxMembers) {
      throw new ApiError('too_many_recipients', `at most ${deps.maxMembers} members per call (API_MAX_RECIPIENTS); got ${body.members.length}`, 'members');
    }
    const owner = body.owner === undefined ? undefined : await existingUser(deps, body.owner, 'owner');
    const members: string[] = [];
    for (const [index, entry] of body.members.entries()) {
      const jid = await existingUser(deps, entry, `members.${index}`);
      if (!members.includes(jid)) members.push(jid);
    }
    const created = await groups.create(id, { name: body.name, owner, members });
    if (!created) throw new ApiError('group_exists', `a group or room named ${id} exists`, 'id');
    res.status(201).json(groupBody(created, groups, deps.domain));
  });

  routes.get('/groups/:id', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const id = groupIdParam(req.params.id);
    const group = await groups.get(id);
    if (!group) throw new ApiError('group_not_found', `no group ${id}`);
    res.json(groupBody(group, groups, deps.domain));
  });

  routes.put('/groups/:id/members/:username', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const id = groupIdParam(req.params.id);
    const username = usernameParam(req.params.username);
    if (!(await groups.get(id))) throw new ApiError('group_not_found', `no group ${id}`);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    const outcome = await groups.setMember(id, `${username}@${deps.domain}`, true);
    if (outcome === 'no-group') throw new ApiError('group_not_found', `no group ${id}`);
    res.status(204).end();
  });

  routes.delete('/groups/:id/members/:username', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const id = groupIdParam(req.params.id);
    // No account check: a deleted user may still be on a member list, and can be taken off it.
    const username = usernameParam(req.params.username);
    switch (await groups.setMember(id, `${username}@${deps.domain}`, false)) {
      case 'no-group':
        throw new ApiError('group_not_found', `no group ${id}`);
      case 'not-member':
        throw new ApiError('member_not_found', `${username} is not a member of ${id}`);
      case 'last-owner':
        throw new ApiError('last_owner', `${username} is the only owner of ${id}; make another owner first (a room always keeps one, XEP-0045 §10.6)`);
      default:
        res.status(204).end();
    }
  });

  routes.delete('/groups/:id', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const id = groupIdParam(req.params.id);
    if (!(await groups.destroy(id, 'the group was deleted'))) throw new ApiError('group_not_found', `no group ${id}`);
    res.status(204).end();
  });

  routes.get('/users/:username/groups', scope, async (req, res) => {
    const groups = groupsOf(deps.groups);
    const username = usernameParam(req.params.username);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    const memberships = await groups.groupsOf(`${username}@${deps.domain}`);
    res.json({
      groups: memberships.map((m) => ({ id: m.id, jid: m.jid, name: m.name, affiliation: m.affiliation as 'owner' | 'admin' | 'member' })),
    });
  });

  return routes;
}
