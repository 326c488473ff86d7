import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { canonicalIp, isValidIp, tryParseIp, type SocketAddress } from '@weft/interface';
import { z } from 'zod';
import type { DnsScopeOf } from './dns-scope';

/** Default of {@link DnsServerOptions.upstreamTimeoutMs}: 2000 ms per upstream. */
export const DEFAULT_DNS_UPSTREAM_TIMEOUT_MS = 2000;
/** Default of {@link DnsServerOptions.ttlSeconds}: 0 (clients do not cache internal answers). */
export const DEFAULT_DNS_TTL_SECONDS = 0;
/** Default of {@link DnsServerOptions.maxTcpConnections}: 128 open TCP connections over all listeners. */
export const DEFAULT_DNS_MAX_TCP_CONNECTIONS = 128;
/** Default of {@link DnsServerOptions.tcpIdleTimeoutMs}: 10 000 ms. */
export const DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS = 10_000;
/** Default of {@link DnsServerOptions.maxTcpBufferBytes}: 512 KiB per connection. */
export const DEFAULT_DNS_MAX_TCP_BUFFER_BYTES = 512 * 1024;
/** Smallest {@link DnsServerOptions.maxTcpBufferBytes}: room for one whole query frame and one whole answer frame. */
export const MIN_DNS_TCP_BUFFER_BYTES = 2 * (2 + 65535);

/**
 * The timer functions the server schedules with (upstream timeouts, TCP idle
 * timeouts). Default: the global `setTimeout` / `clearTimeout`. Tests pass a
 * fake to prove what is (or is not) scheduled, and to fire timeouts at will.
 */
export interface DnsTimers {
  /** Calls `callback` once after `ms` milliseconds; returns a handle for {@link DnsTimers.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer that has not fired (a handle that already fired or was cleared is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The global timers. */
export const systemDnsTimers: DnsTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Creates an unbound datagram socket of the given type; the server binds it
 * (listeners) or lets the first send bind it (upstream sockets), and closes
 * it. Default: `node:dgram` `createSocket` (IP literals are not looked up).
 */
export type UdpSocketFactory = (type: SocketType) => Socket;

/**
 * `dgram`'s name lookup for hosts that are always IP literals here (loopback
 * listeners, upstreams, clients' source addresses): answers at once, where
 * the default `dns.lookup` defers every send by a tick.
 */
function literalLookup(host: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, host, host.includes(':') ? 6 : 4);
}

/** The default {@link UdpSocketFactory}: `dgram.createSocket` with a lookup that takes IP literals as they are. */
export const defaultUdpSocketFactory: UdpSocketFactory = (type) => createSocket({ type, lookup: literalLookup as never });

/** Options of {@link DnsServer}. */
export interface DnsServerOptions {
  /** The scope of a network id: what the server answers from (asked on every query — the server keeps no records). Required. */
  scopeOf: DnsScopeOf;
  /**
   * Resolvers that external names (those no scope knows) are forwarded to
   * over UDP, tried in order: the next one when one does not answer within
   * {@link DnsServerOptions.upstreamTimeoutMs}. IP literal hosts, ports
   * 1–65535; at most 8. Default none: external names are answered SERVFAIL
   * at once, with no socket opened and no timer set.
   */
  upstreams?: SocketAddress[];
  /** How long to wait for one upstream before trying the next, in ms (1–60 000); default 2000. */
  upstreamTimeoutMs?: number;
  /** TTL of internal answers in seconds (0 – 2^31−1); default 0, so a removed record is gone from every client at once. */
  ttlSeconds?: number;
  /** Open TCP connections accepted over all listeners (1–65 535); the next is closed at once and counted `tcpRejected`. Default 128. */
  maxTcpConnections?: number;
  /**
   * A TCP connection that completes no query frame (and has no answer
   * pending) for this long, in ms (100–3 600 000), is closed and counted
   * `tcpIdleClosed`. Bytes that never make up a whole frame do not extend it
   * (a slow-loris client is cut off). Default 10 000.
   */
  tcpIdleTimeoutMs?: number;
  /**
   * Bytes one TCP connection may hold — received but not yet answered, plus
   * answers not yet taken by the client — before it is closed and counted
   * `tcpOverflow` (≥ 131 074, one frame each way; default 512 KiB).
   */
  maxTcpBufferBytes?: number;
  /** Timer functions; default the globals. See {@link DnsTimers}. */
  timers?: DnsTimers;
  /** Creates the UDP sockets (listeners and upstream sockets); default `dgram.createSocket`. */
  udpSocketFactory?: UdpSocketFactory;
}


const upstreamSchema = z.strictObject({
  host: z.string().refine(isValidIp, 'must be an IPv4 or IPv6 literal').transform((h) => canonicalIp(h)),
  port: z.number().int().min(1).max(65535),
});

/** @internal zod schema of {@link DnsServerOptions}. */
export const dnsServerOptionsSchema = z.strictObject({
  scopeOf: z.custom<DnsScopeOf>((v) => typeof v === 'function', 'must be a function (networkId) => DnsScope | undefined'),
  upstreams: z.array(upstreamSchema).max(8).default([]),
  upstreamTimeoutMs: z.number().int().min(1).max(60_000).default(DEFAULT_DNS_UPSTREAM_TIMEOUT_MS),
  ttlSeconds: z.number().int().min(0).max(2 ** 31 - 1).default(DEFAULT_DNS_TTL_SECONDS),
  maxTcpConnections: z.number().int().min(1).max(65535).default(DEFAULT_DNS_MAX_TCP_CONNECTIONS),
  tcpIdleTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS),
  maxTcpBufferBytes: z.number().int().min(MIN_DNS_TCP_BUFFER_BYTES).max(2 ** 30).default(DEFAULT_DNS_MAX_TCP_BUFFER_BYTES),
  timers: z
    .custom<DnsTimers>(
      (v) => typeof v === 'object' && v !== null && typeof (v as DnsTimers).setTimeout === 'function' && typeof (v as DnsTimers).clearTimeout === 'function',
      'must be an object with setTimeout(callback, ms) and clearTimeout(handle)',
    )
    .default(systemDnsTimers),
  udpSocketFactory: z.custom<UdpSocketFactory>((v) => typeof v === 'function', 'must be a function (type) => dgram.Socket').default(() => defaultUdpSocketFactory),
});

/** Options after validation, defaults applied. */
export type ResolvedDnsServerOptions = z.infer<typeof dnsServerOptionsSchema>;

/** True for a loopback literal: 127.0.0.0/8 or ::1. */
export function isLoopbackIp(host: string): boolean {
  const ip = tryParseIp(host);
  if (ip === undefined) return false;
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/** @internal zod schema of the arguments of {@link DnsServer.listen}. */
export const dnsListenSchema = z.strictObject({
  networkId: z.string().min(1),
  host: z.string().refine(isLoopbackIp, 'must be a loopback IP literal (127.0.0.0/8 or ::1)'),
  port: z.number().int().min(0).max(65535),
});
