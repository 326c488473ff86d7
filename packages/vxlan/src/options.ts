import { isIP } from 'node:net';
import { z } from 'zod';
import { InvalidOptionsError } from './errors';
import type { Clock } from './underlay/clock';

/** @internal zod schema of an injected {@link Clock}. */
export const clockSchema = z.custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', 'must be an object with now()');

/** @internal zod schema of an IP literal (IPv4 or IPv6, never a host name). */
export const ipLiteralSchema = z.string().refine((h) => isIP(h) !== 0, 'must be an IPv4 or IPv6 literal');

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/**
 * Validates `input` against `schema`; on failure throws {@link InvalidOptionsError}
 * whose message reads `<what>: option "<field>" <problem> (got <value>)`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const field = path.length > 0 ? path.map(String).join('.') : '(options)';
  const got = describeValue(valueAt(input, path));
  throw new InvalidOptionsError(field, `${what}: option "${field}" ${issue?.message ?? 'is invalid'} (got ${got})`, {
    cause: result.error,
  });
}
