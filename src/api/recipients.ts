import { makeJid, normaliseLocal, parseJid, type Jid } from '../base/jid';
import { ApiError, type ApiErrorCode } from './api-error';

/**
 * The `to` of a push: usernames or JIDs of this domain, each resolved before anything is sent (a bad
 * one refuses the whole call, naming it: `to.3`). A bare JID reaches the user (RFC 6121 §8.5.2), a full
 * JID that one resource. The same address twice is sent once.
 */
export function resolveRecipients(entries: readonly string[], domain: string, max: number): Jid[] {
  if (entries.length > max) throw new ApiError('too_many_recipients', `at most ${max} recipients per call (API_MAX_RECIPIENTS); got ${entries.length}`, 'to');
  const seen = new Set<string>();
  const recipients: Jid[] = [];
  entries.forEach((entry, index) => {
    const jid = resolveUser(entry, domain, `to.${index}`);
    if (seen.has(jid.full)) return;
    seen.add(jid.full);
    recipients.push(jid);
  });
  return recipients;
}

/** A username or a JID of a user of this domain; anything else is a 400 naming `field` (a body field unless `code` says otherwise). */
export function resolveUser(entry: string, domain: string, field: string, code: ApiErrorCode = 'invalid_body'): Jid {
  if (!entry.includes('@')) {
    const local = normaliseLocal(entry);
    if (local === undefined) throw new ApiError(code, `${field}: '${entry}' is not a valid username`, field);
    return makeJid(local, domain);
  }
  const jid = parseJid(entry);
  if (!jid || jid.local === '') throw new ApiError(code, `${field}: '${entry}' is not a valid JID of a user`, field);
  if (jid.domain !== domain) throw new ApiError(code, `${field}: ${jid.domain} is not this gateway's domain (${domain})`, field);
  return jid;
}
