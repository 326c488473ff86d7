import { InvalidFieldError, MalformedPacketError } from '../errors';

/**
 * Parses a dotted-quad IPv4 address (`192.0.2.1`) into an unsigned 32-bit number.
 * Leading zeros and empty parts are rejected.
 * @throws InvalidFieldError on malformed text.
 */
export function parseIpv4(ip: string): number {
  const bad = (): InvalidFieldError =>
    new InvalidFieldError('ipv4', 'address', `must be a dotted quad like "192.0.2.1", got ${JSON.stringify(ip)}`);
  if (typeof ip !== 'string' || ip.length < 7 || ip.length > 15) throw bad();
  let result = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i === ip.length ? 46 : ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) throw bad();
      result = result * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) throw bad(); // leading zero
      part = part * 10 + (c - 48);
      digits++;
    } else {
      throw bad();
    }
  }
  if (parts !== 4) throw bad();
  return result >>> 0;
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Reads 4 bytes at `offset` as an unsigned 32-bit address.
 * @throws MalformedPacketError when fewer than 4 bytes are readable.
 */
export function readIpv4(buf: Uint8Array, offset = 0): number {
  if (offset < 0 || offset + 4 > buf.length) {
    throw new MalformedPacketError('ipv4', `truncated address: need 4 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/**
 * Writes an address (dotted string or unsigned 32-bit number) as 4 bytes at `offset`.
 * @throws InvalidFieldError on malformed text, an out-of-range number or a short buffer.
 */
export function writeIpv4(ip: string | number, buf: Uint8Array, offset = 0): void {
  const n = typeof ip === 'number' ? ip : parseIpv4(ip);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new InvalidFieldError('ipv4', 'address', `must be an integer in 0..4294967295, got ${String(ip)}`);
  }
  if (offset < 0 || offset + 4 > buf.length) {
    throw new InvalidFieldError('ipv4', 'buf', `too small: need 4 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  buf[offset] = n >>> 24;
  buf[offset + 1] = n >>> 16;
  buf[offset + 2] = n >>> 8;
  buf[offset + 3] = n;
}
