import { formatMac, parseMac, tryWriteMac } from '@weft/interface';
import { InvalidFieldError } from '../errors';

/**
 * Writes the MAC address `mac` (`aa:bb:cc:dd:ee:ff`, either case) as 6 bytes at `offset`.
 * The encoders' helper: unlike `parseMac` (`@weft/interface`), it reports what cannot go on the wire as a field error.
 * @throws InvalidFieldError (layer `mac`, field `address` or `buf`) when `mac` is not six colon-separated hex pairs or the buffer is short.
 */
export function writeMac(mac: string, buf: Uint8Array, offset = 0): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + 6 > buf.length) {
    throw new InvalidFieldError('mac', 'buf', `too small: need 6 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  if (!tryWriteMac(mac, buf, offset)) {
    throw new InvalidFieldError('mac', 'address', `must look like "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(mac)}`);
  }
}

/**
 * The 6 bytes at `offset` as one 48-bit integer (exact in a JS number), for use
 * as a `Map` key on the forwarding path without allocating a string.
 * Does not bounds-check beyond what the caller already did: bytes past the end read as 0.
 */
export function macKey(buf: Uint8Array, offset = 0): number {
  return (
    ((buf[offset]! << 8) | buf[offset + 1]!) * 0x100000000 +
    ((buf[offset + 2]! << 24) >>> 0) +
    ((buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!)
  );
}

/** `macKey` of a MAC address string. @throws InvalidAddressError on malformed text. */
export function macKeyOf(mac: string): number {
  return macKey(parseMac(mac), 0);
}

/** Formats a `macKey` back into `aa:bb:cc:dd:ee:ff`. */
export function formatMacKey(key: number): string {
  const b = new Uint8Array(6);
  const hi = Math.floor(key / 0x100000000);
  const lo = key >>> 0;
  b[0] = hi >> 8;
  b[1] = hi;
  b[2] = lo >>> 24;
  b[3] = lo >>> 16;
  b[4] = lo >>> 8;
  b[5] = lo;
  return formatMac(b, 0);
}

/**
 * True when the address at `offset` has the group (I/G) bit set: multicast,
 * including broadcast. Such frames are flooded by a VTEP.
 */
export function isMulticastMac(buf: Uint8Array, offset = 0): boolean {
  return (buf[offset]! & 1) === 1;
}

/** True when the 6 bytes at `offset` are all 0xff. */
export function isBroadcastMac(buf: Uint8Array, offset = 0): boolean {
  return (buf[offset]! & buf[offset + 1]! & buf[offset + 2]! & buf[offset + 3]! & buf[offset + 4]! & buf[offset + 5]!) === 0xff;
}
