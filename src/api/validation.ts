import type { z } from 'zod';
import { ApiError, type ApiErrorCode } from './api-error';

/**
 * Validates input with one of schemas.ts's schemas; the first problem becomes a 400 naming its field
 * (a dotted path, `to.3`). Nothing is acted on before this has passed for the whole request.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, code: ApiErrorCode = 'invalid_body', prefix = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = `${prefix}${path}` || undefined;
  throw new ApiError(code, `${field ?? 'body'}: ${issue?.message ?? 'invalid'}`, field);
}
