import { InvalidAddressError } from '../errors/shared-errors';
import { canonicalIp, isValidIp } from './ip';

/**
 * A socket address: an IP literal and a port. The one address shape of every
 * Weft package: underlay (UDP) addresses, Raft peers and store endpoints (TCP).
 */
export interface SocketAddress {
  /** IP literal, e.g. `127.0.0.1` or `::1` (never a host name). */
  readonly host: string;
  /** Port, 0–65535. */
  readonly port: number;
}

/** Formats an address as `host:port` (`[v6]:port` for IPv6). */
export function formatSocketAddress(address: SocketAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Parses `host:port` or `[v6]:port` text, where host is an IP literal.
 * @throws {InvalidAddressError} naming the text.
 */
export function parseSocketAddress(text: string): SocketAddress {
  const bad = (reason: string): InvalidAddressError => new InvalidAddressError('socket', String(text), reason);
  if (typeof text !== 'string') throw bad('expected "host:port" text');
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') throw bad('expected "[v6]:port"');
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || text.indexOf(':') !== colon) throw bad('expected "host:port" (IPv6 hosts go in brackets)');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (!isValidIp(host)) throw bad(`host ${JSON.stringify(host)} is not an IP literal`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)} is not 0-65535`);
  return { host, port: Number(portText) };
}

/**
 * Accepts either shape, as public APIs that used to take `"host:port"` text do.
 * @throws {InvalidAddressError} for malformed text.
 */
export function toSocketAddress(address: SocketAddress | string): SocketAddress {
  return typeof address === 'string' ? parseSocketAddress(address) : address;
}

/** True when both name the same port and the same IP (compared canonically, so `::1` equals `0:0::1`). */
export function sameSocketAddress(a: SocketAddress, b: SocketAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host) return true;
  try {
    return canonicalIp(a.host) === canonicalIp(b.host);
  } catch {
    return false;
  }
}
