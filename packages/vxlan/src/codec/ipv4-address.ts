import { tryParseIpv4 } from '@weft/interface';
import { InvalidFieldError, MalformedPacketError } from '../errors';

/**
 * Reads 4 bytes at `offset` as an unsigned 32-bit address (format it with
 * `formatIpv4` from `@weft/interface`).
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
 * The encoders' helper: unlike `parseIpv4`, it reports what cannot go on the wire as a field error.
 * @throws InvalidFieldError (layer `ipv4`, field `address` or `buf`) on malformed text, an out-of-range number or a short buffer.
 */
export function writeIpv4(ip: string | number, buf: Uint8Array, offset = 0): void {
  const n = typeof ip === 'number' ? ip : tryParseIpv4(String(ip));
  if (typeof ip !== 'number' && n < 0) {
    throw new InvalidFieldError('ipv4', 'address', `must be a dotted quad like "192.0.2.1", got ${JSON.stringify(ip)}`);
  }
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
