import { MalformedPacketError } from '../errors/shared-errors';
import type { ValueInput } from './store';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A value as bytes: text becomes UTF-8, bytes pass through (not copied). */
export function valueBytes(value: ValueInput): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/**
 * A stored value as text.
 * @throws {MalformedPacketError} (layer `utf8`) when the bytes are not valid UTF-8.
 */
export function textOf(value: Uint8Array | { readonly value: Uint8Array }): string {
  const bytes = value instanceof Uint8Array ? value : value.value;
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new MalformedPacketError('utf8', `value of ${bytes.length} bytes is not valid UTF-8`, { cause: err });
  }
}

/** `value` as UTF-8 JSON bytes. */
export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * A stored JSON value, parsed. The result is `unknown`-shaped data: validate
 * it before trusting it (it came from shared state).
 * @throws {MalformedPacketError} (layer `json`) when the bytes are not UTF-8 JSON.
 */
export function jsonOf<T = unknown>(value: Uint8Array | { readonly value: Uint8Array }): T {
  const text = textOf(value);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new MalformedPacketError('json', `value is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
