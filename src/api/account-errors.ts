import { AccountError } from '../store/account-error';
import { ApiError } from './api-error';

/** The account store's refusals as API errors; anything else passes through. */
export function accountFailure(err: unknown, username: string): unknown {
  if (!(err instanceof AccountError)) return err;
  switch (err.condition) {
    case 'conflict':
      return new ApiError('user_exists', `the user ${username} exists already`, 'username');
    case 'not-found':
      return new ApiError('user_not_found', `no user ${username}`);
    case 'read-only':
      return new ApiError('read_only_user', `${username} is defined in USERS or USERS_FILE and is changed there`);
    case 'invalid-username':
      return new ApiError('invalid_body', `'${username}' is not a valid username`, 'username');
  }
}
