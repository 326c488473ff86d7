import { InvalidFieldError, MalformedPacketError } from '../errors';

/**
 * Throws MalformedPacketError unless `length` bytes are readable at `offset`.
 * @internal
 */
export function need(layer: string, buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new MalformedPacketError(
      layer,
      `truncated ${what}: need ${length} bytes at offset ${offset}, buffer has ${buf.length} bytes`,
    );
  }
}

/**
 * Returns `buf` (or a new buffer of `length` bytes when omitted) after checking
 * that `length` bytes fit at `offset`.
 * @internal
 */
export function target(layer: string, length: number, buf: Uint8Array | undefined, offset: number): Uint8Array {
  const out = buf ?? new Uint8Array(length);
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new InvalidFieldError(
      layer,
      'buf',
      `too small: need ${length} bytes at offset ${offset}, buffer has ${out.length} bytes`,
    );
  }
  return out;
}

/**
 * Throws InvalidFieldError unless `value` is an integer in 0..max.
 * @internal
 */
export function checkUint(layer: string, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidFieldError(layer, field, `must be an integer in 0..${max}, got ${String(value)}`);
  }
}
