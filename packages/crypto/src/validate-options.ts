import { z } from 'zod';
import { InvalidOptionsError } from './errors';
import { SUITE_NAMES, type SuiteName } from './suite';

/** AEAD suite option, default `aes-256-gcm`. */
export const suiteSchema = z.enum(SUITE_NAMES as [SuiteName, ...SuiteName[]]).default('aes-256-gcm');
/** A node id: 1–255 characters. */
export const nodeIdSchema = z.string().min(1).max(255);
/** Last sequence number an outbound SA may use: 1 … 2^53 − 1, default 2^53 − 1. */
export const maxSequenceSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(Number.MAX_SAFE_INTEGER);

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
