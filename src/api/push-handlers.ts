import { randomUUID } from 'node:crypto';
import { Element } from 'ltx';
import { Router as ExpressRouter } from 'express';
import { makeJid, type Jid } from '../base/jid';
import type { GroupService } from '../muc/group-service';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { applicationOf, requireScope } from './authentication';
import { controlElement, controlPayload, messageElement, noStoreHint, storeHints } from './control-message';
import type { PushDelivery, PushResult } from './push-delivery';
import type { PushQuota } from './push-quota';
import type { PushStatistics } from './push-statistics';
import { resolveRecipients, resolveUser } from './recipients';
import { GroupId } from './group-schemas';
import { groupsOf } from './group-handlers';
import { ControlPush, MessagePush } from './schemas';
import { validate } from './validation';

export interface PushDependencies {
  readonly domain: string;
  readonly accounts: AccountStore;
  readonly delivery: PushDelivery;
  readonly quota: PushQuota;
  readonly statistics: PushStatistics;
  readonly maxRecipients: number;
  readonly now: () => number;
  /** The MUC service's groups, for `to: {group}`; undefined when MUC is off (groups_unavailable). */
  readonly groups: GroupService | undefined;
}

/** The recipients of a push: users, or one group (its id, validated). */
function targetOf(to: readonly string[] | { readonly group: string }): { readonly users: readonly string[] } | { readonly group: string } {
  if (Array.isArray(to)) return { users: to as readonly string[] };
  return { group: validate(GroupId, (to as { readonly group: string }).group, 'invalid_body', 'to.group') };
}

/** A push field that means nothing for a group is refused rather than ignored. */
function refuseForGroup(given: boolean, field: string, why: string): void {
  if (given) throw new ApiError('invalid_body', `${field}: ${why}`, field);
}

/**
 * Pushes: POST /messages (chat, normal, headline) and POST /control (a typed JSON payload). Scope
 * `push`. Everything is checked before anything is sent — the body, every recipient's address, the
 * sender, the recipient limit, then the quota — so a refused call sends and stores nothing. What
 * follows is per recipient: delivered, stored, offline, unknown-user or failed. To a group, the push is
 * one groupchat message from the room itself (src/muc/group-service.ts), with its sequence number.
 */
export function pushRoutes(deps: PushDependencies): ExpressRouter {
  const routes = ExpressRouter();
  routes.use(['/messages', '/control'], requireScope('push'));

  /** Sends to every recipient at once; the results keep the recipients' order. */
  const pushTo = async (application: string, recipients: readonly Jid[], send: (to: Jid) => Promise<PushResult>): Promise<PushResult[]> => {
    const results = await Promise.all(recipients.map(send));
    deps.statistics.record(
      application,
      results.map((r) => r.status),
    );
    return results;
  };

  /** One groupchat message into the group, as the room: archived, to the occupants, member notices. */
  const pushToGroup = async (application: string, id: string, build: (room: string) => Element): Promise<PushResult[]> => {
    const groups = groupsOf(deps.groups);
    if (!(await groups.get(id))) throw new ApiError('group_not_found', `no group ${id}`, 'to.group');
    deps.quota.take(application);
    const receipt = await groups.post(id, build);
    if (!receipt) throw new ApiError('group_not_found', `no group ${id}`, 'to.group');
    deps.statistics.record(application, ['delivered']);
    return [{ to: groups.jidOf(id), status: 'delivered', seq: receipt.seq, archive_id: receipt.archiveId }];
  };

  routes.post('/messages', async (req, res) => {
    const body = validate(MessagePush, req.body);
    const target = targetOf(body.to);
    const application = applicationOf(res).name;
    if ('group' in target) {
      const raw = req.body as Record<string, unknown>;
      refuseForGroup(body.from !== undefined, 'from', 'a message to a group comes from the room itself, not from a user');
      refuseForGroup(raw.type !== undefined, 'type', 'a message to a group is a groupchat message; leave type out');
      refuseForGroup(!body.store, 'store', 'a group keeps every message in its archive');
      const id = randomUUID();
      const text = body.body;
      const results = await pushToGroup(application, target.group, (room) =>
        messageElement({ from: room, to: room, type: 'groupchat', id }, new Element('body').t(text)),
      );
      res.json({ id, results });
      return;
    }
    const recipients = resolveRecipients(target.users, deps.domain, deps.maxRecipients);
    let from = deps.domain;
    if (body.from !== undefined) {
      const sender = resolveUser(body.from, deps.domain, 'from');
      if (!(await deps.accounts.exists(sender.local))) throw new ApiError('invalid_body', `from: no user ${sender.local}`, 'from');
      from = sender.full;
    }
    deps.quota.take(application);
    const id = randomUUID();
    const results = await pushTo(application, recipients, (to) =>
      deps.delivery.message(to, (jid) => {
        const message = messageElement({ from, to: jid.full, type: body.type, id }, new Element('body').t(body.body));
        return body.store ? message : noStoreHint(message);
      }),
    );
    res.json({ id, results });
  });

  routes.post('/control', async (req, res) => {
    const body = validate(ControlPush, req.body);
    const target = targetOf(body.to);
    const recipients = 'users' in target ? resolveRecipients(target.users, deps.domain, deps.maxRecipients) : [];
    const payload = controlPayload(body.data);
    const application = applicationOf(res).name;
    const id = randomUUID();
    const fields = { application, type: body.type, data: body.data, priority: body.priority, id, at: new Date(deps.now()) };
    if ('group' in target) {
      refuseForGroup(body.store, 'store', 'a group keeps every message in its archive');
      refuseForGroup(body.ttl_seconds !== undefined, 'ttl_seconds', 'a group keeps every message in its archive, without expiry');
      const results = await pushToGroup(application, target.group, (room) =>
        messageElement({ from: room, to: room, type: 'groupchat', id }, controlElement(fields, payload)),
      );
      res.json({ id, results });
      return;
    }
    deps.quota.take(application);
    const envelope = (jid: Jid, type: 'headline' | 'normal') => messageElement({ from: deps.domain, to: jid.full, type, id }, controlElement(fields, payload));
    const results = await pushTo(application, recipients, (to) =>
      deps.delivery.control(
        to,
        (jid) => envelope(jid, 'headline'),
        body.store ? (jid) => storeHints(envelope(makeJid(jid.local, jid.domain), 'normal'), body.ttl_seconds) : undefined,
      ),
    );
    res.json({ id, results });
  });

  return routes;
}
