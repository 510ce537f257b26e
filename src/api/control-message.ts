import { Element } from 'ltx';
import { NS_CLIENT } from '../base/namespaces';
import { hasNonXmlChar } from '../xml/characters';
import { ApiError } from './api-error';

/** The namespace of control messages (docs/api.md, "Control messages"); the version is its last part. */
export const NS_CONTROL = 'urn:bosh-gateway:control:0';
/** XEP-0334 processing hints. */
export const NS_HINTS = 'urn:xmpp:hints';
/** XEP-0023 message expiration: the offline service drops a stored copy once `seconds` have passed. */
export const NS_EXPIRE = 'jabber:x:expire';

export interface ControlFields {
  readonly application: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly priority: 'normal' | 'high';
  readonly id: string;
  readonly at: Date;
}

/** The JSON payload as element text; refused (400) when it holds what XML 1.0 cannot carry (U+FFFE, U+FFFF). */
export function controlPayload(data: Readonly<Record<string, unknown>>): string {
  // JSON.stringify escapes control characters and lone surrogates (ES2019), not U+FFFE/U+FFFF.
  const json = JSON.stringify(data);
  if (hasNonXmlChar(json)) throw new ApiError('invalid_body', 'data: contains characters XML 1.0 does not allow', 'data');
  return json;
}

/**
 * `<control xmlns='urn:bosh-gateway:control:0' type app id ts priority>{json}</control>`: a typed
 * JSON payload from a business application, carried in a <message/> from the domain.
 */
export function controlElement(fields: ControlFields, payload: string): Element {
  return new Element('control', {
    xmlns: NS_CONTROL,
    type: fields.type,
    app: fields.application,
    id: fields.id,
    ts: fields.at.toISOString(),
    priority: fields.priority,
  }).t(payload);
}

export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly type: 'chat' | 'headline' | 'normal' | 'groupchat';
  readonly id: string;
}

/** A <message/> around `payload` (RFC 6121 §5.2). */
export function messageElement(envelope: Envelope, payload: Element): Element {
  const message = new Element('message', { xmlns: NS_CLIENT, from: envelope.from, to: envelope.to, type: envelope.type, id: envelope.id });
  message.cnode(payload);
  return message;
}

/** Asks offline storage to keep the message (XEP-0334 §4), with an expiry when given (XEP-0023). */
export function storeHints(message: Element, ttlSeconds: number | undefined): Element {
  message.c('store', { xmlns: NS_HINTS });
  if (ttlSeconds !== undefined) message.c('x', { xmlns: NS_EXPIRE, seconds: String(ttlSeconds) });
  return message;
}

/** Asks offline storage not to keep the message (XEP-0334 §4). */
export function noStoreHint(message: Element): Element {
  message.c('no-store', { xmlns: NS_HINTS });
  return message;
}
