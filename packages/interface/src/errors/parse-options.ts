import { InvalidOptionsError } from './shared-errors';

/**
 * The part of a schema that {@link parseOptions} uses: a zod schema (v3 or v4)
 * satisfies it structurally, so this package needs no zod of its own.
 */
export interface OptionsSchema<T> {
  safeParse(input: unknown):
    | { readonly success: true; readonly data: T }
    | {
        readonly success: false;
        readonly error: {
          readonly issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string; readonly code?: string; readonly keys?: readonly string[] }>;
        };
      };
}

/** @internal A short, one-line rendering of a bad option value for an error message (not exported from the package). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return Object.prototype.toString.call(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/**
 * Validates `input` against `schema` at a public trust boundary and returns
 * the parsed value (defaults applied). On failure throws
 * {@link InvalidOptionsError} whose `field` is the dotted path of the first
 * problem and whose message is one line:
 * `<what>: option "<field>" <problem> (got <value>)`.
 * `undefined` input is validated as `{}` so all-optional options may be omitted.
 * The schema's own error is kept as `cause`, never thrown.
 */
export function parseOptions<T>(schema: OptionsSchema<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input === undefined ? {} : input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An unknown key (a strict object's `unrecognized_keys`) is reported at its parent: name the key itself.
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys?.[0] : undefined;
  const path = unknownKey !== undefined ? [...(issue?.path ?? []), unknownKey] : (issue?.path ?? []);
  const field = path.length > 0 ? path.map(String).join('.') : '(options)';
  const problem = unknownKey !== undefined ? 'is not a known option' : (issue?.message ?? 'is invalid').replace(/\s+/g, ' ').trim();
  const got = describeValue(path.length > 0 ? valueAt(input, path) : input);
  throw new InvalidOptionsError(field, `${what}: option "${field}" ${problem} (got ${got})`, { cause: result.error });
}
