/** The error codes of the business API: one catalogue, rendered in one place (error-rendering.ts). */
export type ApiErrorCode =
  | 'invalid_body'
  | 'invalid_parameter'
  | 'missing_key'
  | 'invalid_key'
  | 'forbidden'
  | 'not_found'
  | 'user_not_found'
  | 'session_not_found'
  | 'group_not_found'
  | 'member_not_found'
  | 'message_not_found'
  | 'user_exists'
  | 'group_exists'
  | 'last_owner'
  | 'read_only_user'
  | 'too_many_recipients'
  | 'body_too_large'
  | 'quota_exceeded'
  | 'groups_unavailable'
  | 'unavailable'
  | 'internal_error';

/** What each code answers with. */
const STATUS: Record<ApiErrorCode, number> = {
  invalid_body: 400,
  invalid_parameter: 400,
  missing_key: 401,
  invalid_key: 401,
  forbidden: 403,
  not_found: 404,
  user_not_found: 404,
  session_not_found: 404,
  group_not_found: 404,
  member_not_found: 404,
  message_not_found: 404,
  user_exists: 409,
  group_exists: 409,
  last_owner: 409,
  read_only_user: 409,
  too_many_recipients: 413,
  body_too_large: 413,
  quota_exceeded: 429,
  groups_unavailable: 400,
  unavailable: 503,
  internal_error: 500,
};

/**
 * An error of the API, thrown where the rule is broken and rendered once as `{error, message, field?}`.
 * `field` names the body or path field at fault (a dotted path such as `to.3`).
 */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    /** Seconds the client should wait before trying again (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[code];
  }
}

/** The JSON body of every API error. */
export interface ApiErrorBody {
  readonly error: ApiErrorCode;
  readonly message: string;
  readonly field?: string;
}

export function errorBody(error: ApiError): ApiErrorBody {
  return error.field === undefined ? { error: error.code, message: error.message } : { error: error.code, message: error.message, field: error.field };
}
