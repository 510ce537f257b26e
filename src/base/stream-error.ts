import { Element } from 'ltx';
import { NS_STREAMS } from './namespaces';

/** RFC 6120 §4.9.3 stream error conditions this server raises. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'conflict'
  | 'connection-timeout'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'not-authorized'
  | 'policy-violation'
  | 'resource-constraint'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-stanza-type';

export function streamError(condition: StreamErrorCondition, text?: string): Element {
  const error = new Element('stream:error');
  error.c(condition, { xmlns: NS_STREAMS });
  if (text) error.c('text', { xmlns: NS_STREAMS }).t(text);
  return error;
}
