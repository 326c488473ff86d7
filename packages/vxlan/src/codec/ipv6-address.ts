import { InvalidFieldError, MalformedPacketError } from '../errors';
import { parseIpv4 } from './ipv4-address';

function hexGroup(s: string): number {
  if (s.length < 1 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Parses one side of `::` into 16-bit groups, or undefined when malformed. */
function groups(side: string, allowIpv4Tail: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && allowIpv4Tail && part.includes('.')) {
      let v4: number;
      try {
        v4 = parseIpv4(part);
      } catch {
        return undefined;
      }
      out.push(v4 >>> 16, v4 & 0xffff);
    } else {
      const g = hexGroup(part);
      if (g < 0) return undefined;
      out.push(g);
    }
  }
  return out;
}

/**
 * Parses an IPv6 address in any RFC 4291 §2.2 text form (`::` compression,
 * embedded IPv4 tail such as `::ffff:192.0.2.1`) into 16 bytes.
 * Zone suffixes (`%eth0`) are rejected: strip them first.
 * @throws InvalidFieldError on malformed text.
 */
export function parseIpv6(ip: string): Uint8Array {
  const bad = (): InvalidFieldError =>
    new InvalidFieldError('ipv6', 'address', `must be an IPv6 address like "2001:db8::1", got ${JSON.stringify(ip)}`);
  if (typeof ip !== 'string' || ip.length < 2 || ip.length > 45) throw bad();
  const halves = ip.split('::');
  let all: number[];
  if (halves.length === 1) {
    const g = groups(ip, true);
    if (!g || g.length !== 8) throw bad();
    all = g;
  } else if (halves.length === 2) {
    const head = groups(halves[0]!, false);
    const tail = groups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) throw bad();
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    throw bad();
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i]! >> 8;
    out[i * 2 + 1] = all[i]! & 0xff;
  }
  return out;
}

/**
 * Formats the 16 bytes at `offset` in the RFC 5952 canonical form: lowercase,
 * no leading zeros, the longest run (two or more) of zero groups as `::`
 * (the first one on a tie). IPv4-mapped addresses are written in hex groups too.
 * @throws MalformedPacketError when fewer than 16 bytes are readable.
 */
export function formatIpv6(buf: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 16 > buf.length) {
    throw new MalformedPacketError('ipv6', `truncated address: need 16 bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((buf[offset + i * 2]! << 8) | buf[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
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
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}
