import { InvalidAddressError } from '../errors/shared-errors';

const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push(i.toString(16).padStart(2, '0'));

/** The broadcast MAC address, `ff:ff:ff:ff:ff:ff`. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Writes MAC text (`aa:bb:cc:dd:ee:ff`, either case) as 6 bytes at `offset`;
 * returns false (writing nothing useful) when the text is malformed. The
 * allocation-free form of {@link parseMac}.
 * @throws RangeError when fewer than 6 bytes are writable at `offset`.
 */
export function tryWriteMac(text: string, buf: Uint8Array, offset = 0): boolean {
  if (offset < 0 || offset + 6 > buf.length) throw new RangeError(`MAC needs 6 bytes at offset ${offset}, buffer has ${buf.length}`);
  if (typeof text !== 'string' || text.length !== 17) return false;
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    const hi = nibble(text.charCodeAt(p));
    const lo = nibble(text.charCodeAt(p + 1));
    if (hi < 0 || lo < 0 || (i < 5 && text.charCodeAt(p + 2) !== 58)) return false;
    buf[offset + i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Parses `aa:bb:cc:dd:ee:ff` (either case) into a new 6-byte array.
 * @throws {InvalidAddressError} on malformed text.
 */
export function parseMac(text: string): Uint8Array {
  const out = new Uint8Array(6);
  if (!tryWriteMac(text, out, 0)) throw new InvalidAddressError('MAC', String(text), 'expected a MAC address like "02:42:0a:00:00:02"');
  return out;
}

/** True when `text` is a MAC address in colon-separated hex (never throws). */
export function isValidMac(text: string): boolean {
  return tryWriteMac(text, new Uint8Array(6), 0);
}

/**
 * Formats the 6 bytes at `offset` as lowercase `aa:bb:cc:dd:ee:ff`.
 * @throws RangeError when fewer than 6 bytes are readable at `offset`.
 */
export function formatMac(buf: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 6 > buf.length) throw new RangeError(`MAC needs 6 bytes at offset ${offset}, buffer has ${buf.length}`);
  let s = HEX_PAIRS[buf[offset] as number] as string;
  for (let i = 1; i < 6; i++) s += `:${HEX_PAIRS[buf[offset + i] as number] as string}`;
  return s;
}

/**
 * The MAC Docker derives from an endpoint's IPv4 address: `02:42` followed by
 * the four address bytes (locally administered, unicast), e.g. 10.0.0.2 →
 * `02:42:0a:00:00:02`.
 */
export function macForIpv4(ipv4: number): string {
  return `02:42:${HEX_PAIRS[(ipv4 >>> 24) & 255]}:${HEX_PAIRS[(ipv4 >>> 16) & 255]}:${HEX_PAIRS[(ipv4 >>> 8) & 255]}:${HEX_PAIRS[ipv4 & 255]}`;
}
