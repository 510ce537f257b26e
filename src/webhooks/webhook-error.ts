/** Why a webhook operation was refused; the API renders it (404, 409, 400). */
export type WebhookErrorCode = 'not_found' | 'read_only' | 'invalid' | 'too_many';

export class WebhookError extends Error {
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
    /** The input field at fault (snake_case, as the API names it). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}
