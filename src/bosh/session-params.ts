import { xboshAttribute } from './body-codec';
import { BoshError } from './conditions';
import { BOSH_VERSION } from './namespaces';

/** The connection manager's own bounds (seconds), from configuration. */
export interface BoshLimits {
  readonly maxWait: number;
  readonly maxHold: number;
  readonly inactivity: number;
  readonly polling: number;
  readonly maxPause: number;
  /**
   * Milliseconds after which a held request is answered (empty) while a response carrying stanzas
   * waits for the client's confirmation, so an idle client's next request confirms it (default 1000).
   */
  readonly confirmationPromptMs?: number;
}

/** A held request's answer while output waits for confirmation, unless configured (BOSH_CONFIRMATION_PROMPT_MS). */
export const DEFAULT_CONFIRMATION_PROMPT_MS = 1_000;

/** What one session runs with after the creation request was negotiated (XEP-0124 §7). */
export interface SessionParams {
  readonly wait: number;
  readonly hold: number;
  readonly requests: number;
  readonly inactivity: number;
  readonly polling: number;
  readonly maxPause: number;
  /** Milliseconds, at most `wait`, after which a held request is answered while a response waits for confirmation (see UnconfirmedOutput). */
  readonly confirmationPromptMs: number;
  /** Undefined for a legacy client that sent no 'ver': it gets HTTP error codes (§17.1). */
  readonly ver: string | undefined;
  readonly contentType: string;
  /** §9: the client asked for acknowledgements with ack='1'. */
  readonly acks: boolean;
  readonly to: string;
  readonly lang: string | undefined;
  readonly xmppVersion: string | undefined;
}

export const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';

// A media type as RFC 2045 tokens, optionally with parameters; anything else could split headers.
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

function integerAttribute(attrs: Readonly<Record<string, string>>, name: string): number | undefined {
  const value = attrs[name];
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(value)) throw new BoshError('bad-request', `invalid ${name}`);
  return Number(value);
}

function parseVersion(ver: string): [number, number] {
  const match = /^([0-9]{1,4})\.([0-9]{1,4})$/.exec(ver);
  if (!match) throw new BoshError('bad-request', 'invalid ver');
  return [Number(match[1]), Number(match[2])];
}

/** §7.2: the version in use is the lower of the client's and ours. */
function negotiateVersion(clientVer: string): string {
  const [cMajor, cMinor] = parseVersion(clientVer);
  const [sMajor, sMinor] = parseVersion(BOSH_VERSION);
  return cMajor < sMajor || (cMajor === sMajor && cMinor < sMinor) ? clientVer : BOSH_VERSION;
}

/**
 * Negotiates a session from the creation request's attributes (§7.1, §7.2). Values above our limits
 * are lowered, never refused (gloox sends hold='2'; a refusal would strand it).
 */
export function negotiateParams(attrs: Readonly<Record<string, string>>, limits: BoshLimits): SessionParams {
  const wait = integerAttribute(attrs, 'wait');
  if (wait === undefined) throw new BoshError('bad-request', 'missing wait');
  const requestedHold = integerAttribute(attrs, 'hold') ?? 1;
  const hold = Math.min(requestedHold, limits.maxHold);
  const content = attrs.content;
  if (content !== undefined && !MEDIA_TYPE.test(content)) throw new BoshError('bad-request', 'invalid content');
  const to = attrs.to;
  if (to === undefined || to === '') throw new BoshError('improper-addressing', "missing 'to'");
  const polling = limits.polling;
  return {
    wait: Math.min(wait, limits.maxWait),
    hold,
    // §7.2: requests must exceed hold; two lets a client send while one request is held.
    requests: Math.max(hold + 1, 2),
    // §12: a polling session needs an inactivity longer than its polling interval.
    inactivity: hold === 0 ? Math.max(limits.inactivity, polling * 2) : limits.inactivity,
    polling,
    maxPause: limits.maxPause,
    confirmationPromptMs: Math.min(limits.confirmationPromptMs ?? DEFAULT_CONFIRMATION_PROMPT_MS, Math.min(wait, limits.maxWait) * 1000),
    ver: attrs.ver === undefined ? undefined : negotiateVersion(attrs.ver),
    contentType: content ?? DEFAULT_CONTENT_TYPE,
    acks: attrs.ack === '1',
    to: to.toLowerCase(),
    lang: attrs['xml:lang'],
    xmppVersion: xboshAttribute(attrs, 'version'),
  };
}
