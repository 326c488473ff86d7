import { familyBits, formatIp, tryParseIp, type IpAddress, type IpFamily } from '@weft/interface';
import { InvalidCidrError } from '../errors';

/**
 * A CIDR block: an address and a prefix length. `address` may carry host bits
 * (`10.0.0.5/24`) unless it was parsed with `strict`; {@link networkOf} masks them.
 */
export interface Cidr {
  readonly family: IpFamily;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly address: bigint;
  /** Prefix length in bits: 0–32 (IPv4) or 0–128 (IPv6). */
  readonly prefix: number;
}

/** Options of {@link parseCidr}. */
export interface ParseCidrOptions {
  /** Reject an address with host bits set (`10.0.0.5/24`). Default false. */
  strict?: boolean;
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

function attempt(text: string, strict: boolean): Cidr | string {
  if (typeof text !== 'string') return `expected CIDR text, got ${typeof text}`;
  const slash = text.indexOf('/');
  if (slash < 0) return 'missing "/prefix"';
  const ip = tryParseIp(text.slice(0, slash));
  if (ip === undefined) return `bad address ${JSON.stringify(text.slice(0, slash))}`;
  const p = text.slice(slash + 1);
  if (!PREFIX.test(p)) return `bad prefix length ${JSON.stringify(p)}`;
  const prefix = Number(p);
  if (prefix > familyBits(ip.family)) return `prefix length ${prefix} exceeds ${familyBits(ip.family)} for IPv${ip.family}`;
  const cidr: Cidr = { family: ip.family, address: ip.value, prefix };
  if (strict && (ip.value & hostMask(cidr)) !== 0n) {
    return `host bits are set; the network is ${formatCidr(networkOf(cidr))}`;
  }
  return cidr;
}

/**
 * Parses `address/prefix` (IPv4 or IPv6).
 * @throws {InvalidCidrError} naming the text and what was wrong (address, prefix, host bits when `strict`).
 */
export function parseCidr(text: string, options?: ParseCidrOptions): Cidr {
  const r = attempt(text, options?.strict === true);
  if (typeof r === 'string') throw new InvalidCidrError(String(text), r);
  return r;
}

/** True when `text` parses as a CIDR (with host bits allowed unless `strict`); never throws. */
export function isValidCidr(text: string, options?: ParseCidrOptions): boolean {
  return typeof attempt(text, options?.strict === true) !== 'string';
}

/** Formats `address/prefix`; IPv6 in RFC 5952 canonical form. */
export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.address })}/${c.prefix}`;
}

/** Number of addresses in the block, 2^(bits − prefix). */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

/** The host-part mask: size − 1. */
export function hostMask(c: Cidr): bigint {
  return cidrSize(c) - 1n;
}

/** The block with host bits cleared. */
export function networkOf(c: Cidr): Cidr {
  return { family: c.family, address: c.address & ~hostMask(c), prefix: c.prefix };
}

/** First address of the block (the network address). */
export function firstAddress(c: Cidr): IpAddress {
  return { family: c.family, value: c.address & ~hostMask(c) };
}

/** Last address of the block (the IPv4 broadcast address when the prefix is ≤ 30). */
export function lastAddress(c: Cidr): IpAddress {
  return { family: c.family, value: (c.address & ~hostMask(c)) | hostMask(c) };
}

/** The IPv4 broadcast address, or undefined for IPv6 and for /31 and /32 (RFC 3021), which have none. */
export function broadcastAddress(c: Cidr): IpAddress | undefined {
  return c.family === 4 && c.prefix <= 30 ? lastAddress(c) : undefined;
}

/**
 * Whether the block reserves its first address: IPv4 network address unless
 * /31 or /32; IPv6 Subnet-Router anycast address (RFC 4291 §2.6.1) unless /127
 * (RFC 6164) or /128.
 */
export function reservesNetworkAddress(c: Cidr): boolean {
  return c.family === 4 ? c.prefix <= 30 : c.prefix <= 126;
}

/** First address handed to hosts: network + 1, or the network address itself for /31, /32, /127, /128. */
export function firstUsable(c: Cidr): IpAddress {
  const first = firstAddress(c);
  return reservesNetworkAddress(c) ? { family: c.family, value: first.value + 1n } : first;
}

/** Last address handed to hosts: broadcast − 1 for IPv4 up to /30, otherwise the last address. */
export function lastUsable(c: Cidr): IpAddress {
  const last = lastAddress(c);
  return broadcastAddress(c) !== undefined ? { family: c.family, value: last.value - 1n } : last;
}

/** True when `inner` (an address or a block) lies entirely inside `outer`. Different families never contain each other. */
export function contains(outer: Cidr, inner: IpAddress | Cidr): boolean {
  if (outer.family !== inner.family) return false;
  const mask = ~hostMask(outer);
  if ('prefix' in inner) {
    return inner.prefix >= outer.prefix && (inner.address & mask) === (outer.address & mask);
  }
  return (inner.value & mask) === (outer.address & mask);
}

/** True when the two blocks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const mask = ~hostMask(shorter);
  return (a.address & mask) === (b.address & mask);
}

function checkSplit(c: Cidr, newPrefix: number): void {
  if (!Number.isInteger(newPrefix) || newPrefix < c.prefix || newPrefix > familyBits(c.family)) {
    throw new InvalidCidrError(formatCidr(c), `cannot split into /${newPrefix}`);
  }
}

/** Number of /newPrefix blocks in `c`. @throws {InvalidCidrError} when newPrefix is shorter than c's or too long. */
export function subnetCount(c: Cidr, newPrefix: number): bigint {
  checkSplit(c, newPrefix);
  return 1n << BigInt(newPrefix - c.prefix);
}

/**
 * The `index`-th /newPrefix block of `c` (0-based, in address order).
 * @throws {InvalidCidrError} when newPrefix does not fit or index is out of range.
 */
export function subnetAt(c: Cidr, newPrefix: number, index: bigint): Cidr {
  const count = subnetCount(c, newPrefix);
  if (index < 0n || index >= count) throw new InvalidCidrError(formatCidr(c), `subnet index ${index} out of range 0..${count - 1n}`);
  const step = 1n << BigInt(familyBits(c.family) - newPrefix);
  return { family: c.family, address: firstAddress(c).value + index * step, prefix: newPrefix };
}

/**
 * The /newPrefix blocks of `c` in address order, lazily (a /8 split into /24
 * yields 65,536 blocks; stop iterating when you have enough).
 * @throws {InvalidCidrError} when newPrefix is shorter than c's prefix or longer than the family allows.
 */
export function splitCidr(c: Cidr, newPrefix: number): Generator<Cidr, void, undefined> {
  const count = subnetCount(c, newPrefix);
  const step = 1n << BigInt(familyBits(c.family) - newPrefix);
  return blocks(c.family, firstAddress(c).value, step, count, newPrefix);
}

function* blocks(family: IpFamily, base: bigint, step: bigint, count: bigint, prefix: number): Generator<Cidr, void, undefined> {
  for (let i = 0n; i < count; i++) yield { family, address: base + i * step, prefix };
}
