import { InvalidAddressError } from '../errors/shared-errors';

/**
 * Parses dotted-decimal IPv4 text (`a.b.c.d`, each 0–255, no leading zeros)
 * into an unsigned 32-bit integer. Returns -1 instead of throwing; the fast
 * path used by the allocator.
 */
export function tryParseIpv4(text: string): number {
  if (typeof text !== 'string') return -1;
  const len = text.length;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= len; i++) {
    const c = i === len ? 46 : text.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/**
 * Parses dotted-decimal IPv4 text into an unsigned 32-bit integer.
 * @throws {InvalidAddressError} naming the text when it is not strict dotted decimal.
 */
export function parseIpv4(text: string): number {
  const v = tryParseIpv4(text);
  if (v < 0) throw new InvalidAddressError('IP', String(text), 'expected four decimal octets 0-255 without leading zeros, like 10.0.0.1');
  return v;
}

/** Formats an unsigned 32-bit integer (0 … 2^32-1) as dotted decimal. */
export function formatIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`formatIpv4: ${String(value)} is not a 32-bit unsigned integer`);
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** True when `text` is strict dotted-decimal IPv4. */
export function isValidIpv4(text: string): boolean {
  return tryParseIpv4(text) >= 0;
}
