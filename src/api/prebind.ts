import { randomInt } from 'node:crypto';
import { Element } from 'ltx';
import type { BoshTransport } from '../bosh';
import { NS_BIND, NS_CLIENT, NS_SASL } from '../base/namespaces';
import { parseStrictXml, serializeXml } from '../xml';
import { ApiError } from './api-error';
import type { LoginTokens } from './login-tokens';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const NS_XBOSH = 'urn:xmpp:xbosh';
/** Long enough for the four in-process exchanges; each is answered as soon as the actor replies. */
const TOKEN_TTL_SECONDS = 60;
/** The first rid, like a client's (XEP-0124 §14.1): random, and far below 2^53 - 1 however long the session lasts. */
const MAX_INITIAL_RID = 2 ** 32;

export interface PrebindSettings {
  readonly domain: string;
  /** The session's wait and hold (XEP-0124 §7.1), which the attaching client must use too. */
  readonly wait: number;
  readonly hold: number;
}

export interface PrebindSession {
  readonly jid: string;
  readonly sid: string;
  /** The rid of the client's next request (Strophe.js `attach(jid, sid, rid)` sends exactly this one next). */
  readonly rid: number;
  readonly wait: number;
  readonly hold: number;
}

/**
 * Prebind (XEP-0124 §7, XEP-0206): a BOSH session opened on this node, authenticated and bound, for a
 * page to attach to. It is driven through the transport's public entry point with the very requests a
 * client would send — creation, SASL PLAIN with a one-minute login token, restart, bind — so every
 * BOSH and XMPP rule applies unchanged (rid order, the login throttle, the session limit per account,
 * the resource conflict policy). After the bind nothing is held: the page must attach within the
 * session's inactivity time (BOSH_INACTIVITY). In a cluster the sid names this node, so a request
 * arriving at any node is forwarded here.
 */
export class Prebinder {
  constructor(
    private readonly transport: BoshTransport,
    private readonly tokens: LoginTokens,
    private readonly settings: PrebindSettings,
  ) {}

  async open(username: string, resource: string | undefined): Promise<PrebindSession> {
    const { domain, wait, hold } = this.settings;
    let rid = randomInt(1, MAX_INITIAL_RID);
    const created = await this.exchange(
      body({ rid, to: domain, wait: String(wait), hold: String(hold), ver: '1.6', 'xml:lang': 'en', 'xmlns:xmpp': NS_XBOSH, 'xmpp:version': '1.0' }),
    );
    const sid = created.attrs.sid as string | undefined;
    if (sid === undefined) throw failure('the session could not be created', created);

    const { token } = await this.tokens.issue(username, TOKEN_TTL_SECONDS);
    const auth = new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(Buffer.from(`\0${username}\0${token}`).toString('base64'));
    const authenticated = await this.exchange(body({ rid: ++rid, sid }, auth));
    if (!child(authenticated, 'success', NS_SASL)) {
      this.terminate(sid, ++rid);
      const condition = child(authenticated, 'failure', NS_SASL)?.children.find((c): c is Element => typeof c !== 'string')?.name;
      // temporary-auth-failure: too many logins under way for the account; anything else: gone meanwhile.
      if (condition === 'temporary-auth-failure') throw new ApiError('unavailable', 'too many logins for this user are under way; try again', undefined, 1);
      throw new ApiError('user_not_found', `no user ${username}`, 'username');
    }

    await this.exchange(body({ rid: ++rid, sid, to: domain, 'xml:lang': 'en', 'xmlns:xmpp': NS_XBOSH, 'xmpp:restart': 'true' }));

    const bind = new Element('iq', { xmlns: NS_CLIENT, type: 'set', id: 'prebind' });
    const bindRequest = bind.c('bind', { xmlns: NS_BIND });
    if (resource !== undefined) bindRequest.c('resource').t(resource);
    const bound = await this.exchange(body({ rid: ++rid, sid }, bind));
    const result = bound.children.find((c): c is Element => typeof c !== 'string' && c.name === 'iq');
    const jid = result?.attrs.type === 'result' ? result.getChild('bind', NS_BIND)?.getChildText('jid') : undefined;
    if (!jid) {
      this.terminate(sid, ++rid);
      // RFC 6120 §7.6.2.1 resource-constraint: the account has all its sessions.
      const reason = result?.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name ?? 'the resource could not be bound';
      throw new ApiError('unavailable', `the session could not be bound: ${reason}`);
    }
    return { jid, sid, rid: rid + 1, wait: Number(created.attrs.wait ?? wait), hold: Number(created.attrs.hold ?? hold) };
  }

  /** One request through the transport, as an HTTP request would make it; resolves with the response body. */
  private exchange(request: Element): Promise<Element> {
    return new Promise((resolve, reject) => {
      this.transport.handle(serializeXml(request), { remoteAddress: undefined }, (response) => {
        try {
          const answer = parseStrictXml(response.body);
          if (answer.attrs.type === 'terminate') reject(failure(`the session ended (${String(answer.attrs.condition ?? 'no condition')})`, answer));
          else resolve(answer);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** A prebind given up half-way ends its session at once rather than by inactivity (§13). */
  private terminate(sid: string, rid: number): void {
    this.transport.handle(serializeXml(body({ rid, sid, type: 'terminate' })), { remoteAddress: undefined }, () => undefined);
  }
}

function body(attrs: Record<string, string | number>, payload?: Element): Element {
  const element = new Element('body', { xmlns: NS_HTTPBIND, ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v)])) });
  if (payload) element.cnode(payload);
  return element;
}

function child(response: Element, name: string, xmlns: string): Element | undefined {
  return response.children.find((c): c is Element => typeof c !== 'string' && c.name === name && c.attrs.xmlns === xmlns);
}

function failure(message: string, response: Element): ApiError {
  return new ApiError('unavailable', `${message}: ${String(response.attrs.condition ?? 'unexpected answer')}`);
}
