import { randomUUID } from 'node:crypto';
import { Element } from 'ltx';
import { Router as ExpressRouter } from 'express';
import { makeJid, type Jid } from '../base/jid';
import type { AccountStore } from '../store/account-store';
import { ApiError } from './api-error';
import { applicationOf, requireScope } from './authentication';
import { controlElement, controlPayload, messageElement, noStoreHint, storeHints } from './control-message';
import type { PushDelivery, PushResult } from './push-delivery';
import type { PushQuota } from './push-quota';
import type { PushStatistics } from './push-statistics';
import { resolveRecipients, resolveUser } from './recipients';
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
}

/** `to: {group}` is part of the contract; groups arrive with the groups API. */
function usersOnly(to: readonly string[] | { readonly group: string }): readonly string[] {
  if (Array.isArray(to)) return to as readonly string[];
  throw new ApiError('groups_unavailable', 'groups are not available yet: send to a list of users', 'to');
}

/**
 * Pushes: POST /messages (chat, normal, headline) and POST /control (a typed JSON payload). Scope
 * `push`. Everything is checked before anything is sent — the body, every recipient's address, the
 * sender, the recipient limit, then the quota — so a refused call sends and stores nothing. What
 * follows is per recipient: delivered, stored, offline, unknown-user or failed.
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

  routes.post('/messages', async (req, res) => {
    const body = validate(MessagePush, req.body);
    const recipients = resolveRecipients(usersOnly(body.to), deps.domain, deps.maxRecipients);
    let from = deps.domain;
    if (body.from !== undefined) {
      const sender = resolveUser(body.from, deps.domain, 'from');
      if (!(await deps.accounts.exists(sender.local))) throw new ApiError('invalid_body', `from: no user ${sender.local}`, 'from');
      from = sender.full;
    }
    const application = applicationOf(res).name;
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
    const recipients = resolveRecipients(usersOnly(body.to), deps.domain, deps.maxRecipients);
    const payload = controlPayload(body.data);
    const application = applicationOf(res).name;
    deps.quota.take(application);
    const id = randomUUID();
    const fields = { application, type: body.type, data: body.data, priority: body.priority, id, at: new Date(deps.now()) };
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
