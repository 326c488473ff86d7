import { InvalidAddressError } from '../errors/shared-errors';
import { formatIpv4, tryParseIpv4 } from './ipv4';

const HEX = /^[0-9a-fA-F]{1,4}$/;

function groupsOf(part: string): string[] {
  return part === '' ? [] : part.split(':');
}

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, optional trailing
 * dotted IPv4) into a 128-bit unsigned bigint. Zone ids (`%eth0`) are rejected.
 * Returns undefined instead of throwing; see {@link parseIpv6} for the reason.
 */
export function tryParseIpv6(text: string): bigint | undefined {
  return parse(text).value;
}

/**
 * Parses IPv6 text into a 128-bit unsigned bigint.
 * @throws {InvalidAddressError} naming the text and what was wrong with it.
 */
export function parseIpv6(text: string): bigint {
  const r = parse(text);
  if (r.value === undefined) throw new InvalidAddressError('IP', String(text), r.reason);
  return r.value;
}

function parse(text: string): { value?: bigint; reason: string } {
  if (typeof text !== 'string') return { reason: 'not text' };
  if (text.length < 2 || text.length > 45) return { reason: 'wrong length for IPv6 text' };
  const halves = text.split('::');
  if (halves.length > 2) return { reason: 'more than one "::"' };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  const groups: number[] = [];
  const all = halves.length === 2 ? [...head, ...tail] : [...head];
  let ipv4Tail: number | undefined;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (halves.length === 2 && tail.length === 0) return { reason: 'an embedded IPv4 must come last' };
    const v4 = tryParseIpv4(last);
    if (v4 < 0) return { reason: `invalid embedded IPv4 ${JSON.stringify(last)}` };
    ipv4Tail = v4;
    all.pop();
    if (halves.length === 2 && tail.length > 0) tail.pop();
    else head.pop();
  }
  for (const g of all) {
    if (!HEX.test(g)) return { reason: `invalid group ${JSON.stringify(g)}` };
    groups.push(parseInt(g, 16));
  }
  const explicit = groups.length + (ipv4Tail === undefined ? 0 : 2);
  if (halves.length === 2) {
    if (explicit > 7) return { reason: '"::" must stand for at least one zero group' };
  } else if (explicit !== 8) {
    return { reason: `expected 8 groups, got ${explicit}` };
  }
  const headCount = head.length;
  const full: number[] = [];
  for (let i = 0; i < headCount; i++) full.push(groups[i] ?? 0);
  if (halves.length === 2) for (let i = 0; i < 8 - explicit; i++) full.push(0);
  for (let i = headCount; i < groups.length; i++) full.push(groups[i] ?? 0);
  if (ipv4Tail !== undefined) full.push(ipv4Tail >>> 16, ipv4Tail & 0xffff);
  let value = 0n;
  for (const g of full) value = (value << 16n) | BigInt(g);
  return { value, reason: '' };
}

/**
 * Formats a 128-bit unsigned bigint as canonical IPv6 text per RFC 5952:
 * lowercase hex, no leading zeros, the longest run of two or more zero groups
 * (the first one on a tie) replaced by `::`, and IPv4-mapped addresses
 * (`::ffff:0:0/96`) with a dotted IPv4 tail (§5).
 */
export function formatIpv6(value: bigint): string {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 128n) throw new RangeError(`formatIpv6: ${String(value)} is not a 128-bit unsigned value`);
  const g: number[] = new Array<number>(8);
  for (let i = 7; i >= 0; i--) {
    g[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4((g[6] ?? 0) * 65536 + (g[7] ?? 0))}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** True when `text` is valid IPv6 text. */
export function isValidIpv6(text: string): boolean {
  return typeof text === 'string' && text.includes(':') && tryParseIpv6(text) !== undefined;
}

/**
 * Writes a 128-bit address as 16 network-order bytes at `offset`.
 * @throws RangeError when fewer than 16 bytes are writable there.
 */
export function writeIpv6(value: bigint, buf: Uint8Array, offset = 0): void {
  if (offset < 0 || offset + 16 > buf.length) throw new RangeError(`writeIpv6: need 16 bytes at offset ${offset}, buffer has ${buf.length}`);
  for (let i = 15; i >= 0; i--) {
    buf[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

/**
 * Reads 16 network-order bytes at `offset` as a 128-bit address.
 * @throws RangeError when fewer than 16 bytes are readable there.
 */
export function readIpv6(buf: Uint8Array, offset = 0): bigint {
  if (offset < 0 || offset + 16 > buf.length) throw new RangeError(`readIpv6: need 16 bytes at offset ${offset}, buffer has ${buf.length}`);
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(buf[offset + i] as number);
  return v;
}
