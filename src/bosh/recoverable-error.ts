import { encodeResponse } from './body-codec';
import type { BoshResponse } from './session';
import { DEFAULT_CONTENT_TYPE } from './session-params';

/**
 * XEP-0124 §17.3: a recoverable binding error, `<body type='error'/>`. The session goes on; the
 * client resends this request, and every earlier one still unanswered, with the same rids and bodies.
 */
export function recoverableErrorResponse(contentType: string = DEFAULT_CONTENT_TYPE): BoshResponse {
  return { status: 200, body: encodeResponse([['type', 'error']]), contentType, recoverable: true };
}
