import type { z } from 'zod';
import { InvalidOptionsError } from './errors';

/**
 * Parses `value` with `schema` at a public trust boundary. Throws
 * `InvalidOptionsError` naming the first bad field (`what.field: problem`).
 */
export function validateOptions<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : '';
  throw new InvalidOptionsError(`${what}${field}: ${issue?.message ?? 'invalid'}`, { cause: result.error });
}
