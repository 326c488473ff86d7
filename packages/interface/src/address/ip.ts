import { InvalidAddressError } from '../errors/shared-errors';
import { formatIpv4, isValidIpv4, tryParseIpv4 } from './ipv4';
import { formatIpv6, isValidIpv6, tryParseIpv6 } from './ipv6';

/** IP version: 4 or 6. */
export type IpFamily = 4 | 6;

/** An IP address as a number: `value` is unsigned, 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Address width in bits for a family (32 or 128). */
export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses IPv4 or IPv6 text; undefined when invalid. */
export function tryParseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const v = tryParseIpv6(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v4 = tryParseIpv4(text);
  return v4 < 0 ? undefined : { family: 4, value: BigInt(v4) };
}

/**
 * Parses IPv4 (strict dotted decimal) or IPv6 (RFC 4291 text) into an {@link IpAddress}.
 * @throws {InvalidAddressError} naming the text.
 */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (ip === undefined) throw new InvalidAddressError('IP', String(text), typeof text === 'string' && text.includes(':') ? 'not valid IPv6 text' : 'not valid IPv4 dotted decimal');
  return ip;
}

/** True when `text` is a valid IPv4 or IPv6 address (never throws). */
export function isValidIp(text: string): boolean {
  if (typeof text !== 'string') return false;
  return text.includes(':') ? isValidIpv6(text) : isValidIpv4(text);
}

/**
 * The canonical text of an IP literal (IPv4 as is, IPv6 per RFC 5952), so two
 * spellings of one address compare equal as strings.
 * @throws {InvalidAddressError} naming the text.
 */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text));
}


/** Formats an address; IPv6 in RFC 5952 canonical form. */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIpv4(Number(ip.value)) : formatIpv6(ip.value);
}
