import { InvalidFieldError, MalformedPacketError } from '../errors';

const HEX = '0123456789abcdef';
const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push(HEX[i >> 4]! + HEX[i & 15]!);

/** The broadcast MAC address, `ff:ff:ff:ff:ff:ff`. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Writes the MAC address `mac` (`aa:bb:cc:dd:ee:ff`, either case) as 6 bytes at `offset`.
 * @throws InvalidFieldError when `mac` is not six colon-separated hex pairs or the buffer is short.
 */
export function writeMac(mac: string, buf: Uint8Array, offset = 0): void {
  if (typeof mac !== 'string' || mac.length !== 17) {
    throw new InvalidFieldError('mac', 'address', `must look like "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(mac)}`);
  }
  if (offset < 0 || offset + 6 > buf.length) {
    throw new InvalidFieldError('mac', 'buf', `too small: need 6 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    const hi = hexNibble(mac.charCodeAt(p));
    const lo = hexNibble(mac.charCodeAt(p + 1));
    if (hi < 0 || lo < 0 || (i < 5 && mac.charCodeAt(p + 2) !== 58)) {
      throw new InvalidFieldError('mac', 'address', `must look like "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(mac)}`);
    }
    buf[offset + i] = (hi << 4) | lo;
  }
}

/**
 * Parses `aa:bb:cc:dd:ee:ff` (either case) into a new 6-byte array.
 * @throws InvalidFieldError on malformed text.
 */
export function parseMac(mac: string): Uint8Array {
  const out = new Uint8Array(6);
  writeMac(mac, out, 0);
  return out;
}

/**
 * Formats the 6 bytes at `offset` as lowercase `aa:bb:cc:dd:ee:ff`.
 * @throws MalformedPacketError when fewer than 6 bytes are readable at `offset`.
 */
export function formatMac(buf: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 6 > buf.length) {
    throw new MalformedPacketError('mac', `truncated address: need 6 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  return (
    HEX_PAIRS[buf[offset]!]! +
    ':' +
    HEX_PAIRS[buf[offset + 1]!]! +
    ':' +
    HEX_PAIRS[buf[offset + 2]!]! +
    ':' +
    HEX_PAIRS[buf[offset + 3]!]! +
    ':' +
    HEX_PAIRS[buf[offset + 4]!]! +
    ':' +
    HEX_PAIRS[buf[offset + 5]!]!
  );
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

/** `macKey` of a MAC address string. @throws InvalidFieldError on malformed text. */
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
