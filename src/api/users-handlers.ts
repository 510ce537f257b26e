import { randomBytes } from 'node:crypto';
import { Router as ExpressRouter } from 'express';
import { makeJid } from '../base/jid';
import type { Router } from '../routing/router';
import type { AccountStore } from '../store/account-store';
import type { RosterStore } from '../store/roster-store';
import type { PresenceService } from '../xmpp/presence/presence-service';
import { accountFailure } from './account-errors';
import { ApiError } from './api-error';
import { requireScope } from './authentication';
import { ChangePassword, CreateUser, ListUsersQuery, Resource, Username } from './schemas';
import type { SessionClock } from './session-clock';
import type { TokenValidity } from './token-validity';
import { validate } from './validation';

export interface UsersDependencies {
  readonly domain: string;
  readonly accounts: AccountStore;
  /** Whether the account comes from USERS / USERS_FILE (changed there, never through the API). */
  readonly readOnly: (username: string) => Promise<boolean>;
  readonly rosters: RosterStore;
  readonly presence: PresenceService;
  readonly router: Router;
  /** Removes the account and its data, its affiliations in rooms included (src/store/account-removal.ts). */
  readonly removeAccount: (username: string) => Promise<boolean>;
  readonly validity: TokenValidity;
  readonly clock: SessionClock;
  readonly now: () => number;
}

/** A generated password: 144 random bits, base64url. */
const generatePassword = (): string => randomBytes(18).toString('base64url');

/** The username of the path, validated (a 400 naming the parameter, not a 404). */
export function usernameParam(value: unknown): string {
  return validate(Username, value, 'invalid_parameter', 'username');
}

/**
 * /users: accounts (create, list, look up, change the password, delete) and their sessions (kick).
 * All need the `users` scope.
 */
export function usersRoutes(deps: UsersDependencies): ExpressRouter {
  const routes = ExpressRouter();
  // Per route, not on /users as a whole: /users/{username}/token, /groups and /history need other scopes.
  const scope = requireScope('users');

  routes.post('/users', scope, async (req, res) => {
    const { username, password } = validate(CreateUser, req.body);
    const chosen = password ?? generatePassword();
    try {
      await deps.accounts.create(username, chosen);
    } catch (err) {
      throw accountFailure(err, username);
    }
    // A token issued for an earlier account of this name must not log into this one.
    await deps.validity.revoke(username, deps.now());
    res.status(201).json({ username, jid: makeJid(username, deps.domain).bare, ...(password === undefined ? { password: chosen } : {}) });
  });

  routes.get('/users', scope, async (req, res) => {
    const { after, limit } = validate(ListUsersQuery, req.query, 'invalid_parameter');
    const page = await deps.accounts.list({ after, limit });
    res.json({ users: page.accounts.map((a) => ({ username: a.username, read_only: a.readOnly })), next: page.next ?? null });
  });

  routes.get('/users/:username', scope, async (req, res) => {
    const username = usernameParam(req.params.username);
    const jid = makeJid(username, deps.domain);
    const resources = await deps.router.resourcesOf(jid.bare);
    if (resources.length === 0 && !(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    const sessions = resources.map((r) => {
      const since = deps.clock.since(r.jid.full);
      return { resource: r.resource, node: r.node, available: r.available, priority: r.priority, ...(since ? { since: since.toISOString() } : {}) };
    });
    res.json({ username, jid: jid.bare, online: sessions.length > 0, sessions });
  });

  routes.put('/users/:username/password', scope, async (req, res) => {
    const username = usernameParam(req.params.username);
    const { password } = validate(ChangePassword, req.body);
    try {
      await deps.accounts.changePassword(username, password);
    } catch (err) {
      throw accountFailure(err, username);
    }
    // A new password voids the login tokens issued under the old one.
    await deps.validity.revoke(username, deps.now());
    res.status(204).end();
  });

  routes.delete('/users/:username', scope, async (req, res) => {
    const username = usernameParam(req.params.username);
    // Refused before anything is touched (removeAccount would refuse too, but after the contacts heard).
    if (await deps.readOnly(username)) throw new ApiError('read_only_user', `${username} is defined in USERS or USERS_FILE and is changed there`);
    if (!(await deps.accounts.exists(username))) throw new ApiError('user_not_found', `no user ${username}`);
    // RFC 6121 §2.5.2: each contact hears the subscriptions end, as if the user removed the item.
    for (const item of (await deps.rosters.roster(username)).items) await deps.presence.contactRemoved(username, item.jid, item);
    // Credentials first: no login starts from here on, on any node (account-removal.ts).
    await deps.removeAccount(username);
    await deps.router.endSessions(makeJid(username, deps.domain).bare, { condition: 'policy-violation', text: 'the account was removed' });
    // What the ended sessions wrote meanwhile goes too.
    await deps.removeAccount(username);
    res.status(204).end();
  });

  routes.delete('/users/:username/sessions/:resource', scope, async (req, res) => {
    const username = usernameParam(req.params.username);
    const resource = validate(Resource, req.params.resource, 'invalid_parameter', 'resource');
    const ended = await deps.router.endSessions(
      makeJid(username, deps.domain).bare,
      { condition: 'policy-violation', text: 'the session was ended by the service' },
      resource,
    );
    if (ended === 0) throw new ApiError('session_not_found', `${username} has no session with the resource ${resource}`);
    res.status(204).end();
  });

  return routes;
}
