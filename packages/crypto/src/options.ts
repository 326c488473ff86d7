import { z } from 'zod';
import { InvalidOptionsError, isValidIp } from '@weft/interface';
import { SUITE_NAMES, type SuiteName } from './suite/aead-cipher';

// Zod schemas shared by the public constructors and methods of this package.
// Every one of them is applied through `parseOptions` from @weft/interface, so
// a bad value surfaces as a one-line `InvalidOptionsError` naming the field.

/** An AEAD suite name (required). */
export const suiteNameSchema = z.enum(SUITE_NAMES as [SuiteName, ...SuiteName[]]);
/** AEAD suite option, default `aes-256-gcm`. */
export const suiteSchema = suiteNameSchema.default('aes-256-gcm');
/** A node id: 1–255 characters. */
export const nodeIdSchema = z.string().min(1).max(255);
/** A key generation: 0 … 2^32 − 1. */
export const generationSchema = z.number().int().min(0).max(0xffffffff);
/** Last sequence number an outbound SA may use: 1 … 2^53 − 1, default 2^53 − 1. */
export const maxSequenceSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(Number.MAX_SAFE_INTEGER);
/** A cluster secret: a `Uint8Array` of at least 32 bytes. */
export const secretSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 32, {
  message: 'must be a Uint8Array of at least 32 bytes',
});
/** Any `Uint8Array`. */
export const anyBytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be a Uint8Array' });
/** A `Uint8Array` of exactly `length` bytes. */
export const bytesSchema = (length: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === length, { message: `must be a Uint8Array of ${length} bytes` });
/** A socket address whose host is an IP literal (compared canonically later, so `::1` and `0::1` are one peer). */
export const socketAddressSchema = z.object({
  host: z.string().refine(isValidIp, { message: 'must be an IP literal' }),
  port: z.number().int().min(0).max(65535),
});

/** How a value is shown in a hand-written argument error: numbers as is, byte arrays by length. */
export function describeArgument(value: unknown): string {
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/**
 * The error for an argument that passed its schema but breaks a rule of the
 * call (a generation not installed, out of order, ...), worded as
 * `parseOptions` words schema failures: `<what>: option "<field>" <problem> (got <value>)`.
 */
export function invalidArgument(what: string, field: string, problem: string, got: unknown): InvalidOptionsError {
  return new InvalidOptionsError(field, `${what}: option "${field}" ${problem} (got ${describeArgument(got)})`);
}
