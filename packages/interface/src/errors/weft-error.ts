/**
 * The root of every error a Weft package throws on purpose.
 *
 * Every class has a fixed `name` (the class name) and a stable `code`
 * (`ERR_…`, never reworded), so callers can branch on either. Instances also
 * carry a brand registered with `Symbol.for`, which survives two copies of
 * this package being installed side by side (where `instanceof` across the
 * copies is false): use {@link isWeftError} to recognise them.
 */
export const WEFT_ERROR_BRAND: unique symbol = Symbol.for('@weft/interface:error');

/** Options every Weft error constructor accepts, as `Error` does. */
export interface WeftErrorOptions {
  /** The underlying error, when this one wraps another. */
  readonly cause?: unknown;
}

/** Base class of every Weft error. Packages extend it once (`VxlanError`, `RaftError`, ...). */
export class WeftError extends Error {
  override name = 'WeftError';
  /** Stable machine-readable code, `ERR_…`. */
  readonly code: string = 'ERR_WEFT';
  /** The cross-copy brand; always `true`. */
  readonly [WEFT_ERROR_BRAND] = true as const;

  constructor(message: string, options?: WeftErrorOptions) {
    super(message, options);
  }
}

/**
 * True when `value` is an error thrown by any Weft package, even one from
 * another installed copy of `@weft/interface`. With `nameOrCode`, also
 * requires its `name` or `code` to equal it (e.g. `'InvalidOptionsError'` or
 * `'ERR_INVALID_OPTIONS'`).
 */
export function isWeftError(value: unknown, nameOrCode?: string): value is WeftError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<PropertyKey, unknown>)[WEFT_ERROR_BRAND] !== true) return false;
  if (nameOrCode === undefined) return true;
  const e = value as { name?: unknown; code?: unknown };
  return e.name === nameOrCode || e.code === nameOrCode;
}
