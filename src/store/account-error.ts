/** Why an account could not be created or changed (the account management API maps these to HTTP statuses). */
export type AccountCondition = 'conflict' | 'not-found' | 'read-only' | 'invalid-username';

export class AccountError extends Error {
  constructor(
    readonly condition: AccountCondition,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}
