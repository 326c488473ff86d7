import { isValidIpv4, isValidMac, systemClock, type Clock } from '@weft/interface';
import { z } from 'zod';
import { clockSchema } from '../option-schemas';

/** @internal zod schema of {@link EndpointOptions}. */
export const endpointOptionsSchema = z.object({
  mac: z
    .string()
    .refine(isValidMac, 'must look like "02:00:00:00:00:01"')
    .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC (group bit clear)'),
  ip: z.string().refine(isValidIpv4, 'must be a dotted-quad IPv4 address'),
  clock: clockSchema.default(systemClock),
  arpTimeoutMs: z.number().positive().default(500),
  arpRetries: z.number().int().min(0).max(10).default(3),
  neighbourTtlMs: z.number().positive().default(60_000),
  maxPendingPerHost: z.number().int().min(1).default(256),
  udpChecksum: z.boolean().default(true),
  ttl: z.number().int().min(1).max(255).default(64),
});

/** Options of an {@link Endpoint}. */
export interface EndpointOptions {
  /** The endpoint's unicast MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** The endpoint's IPv4 address, dotted quad. Every destination is treated as on-link (resolved with ARP). */
  ip: string;
  /** Monotonic ms clock for ping round-trip times and neighbour-cache expiry (default `performance.now`). */
  clock?: Clock;
  /** Wait for an ARP reply, in ms, before retrying (default 500). */
  arpTimeoutMs?: number;
  /** ARP retries after the first request (default 3). */
  arpRetries?: number;
  /** Lifetime of a neighbour-cache entry in ms (default 60 000). */
  neighbourTtlMs?: number;
  /** Datagrams held per destination while its MAC is resolved; more are dropped (default 256). */
  maxPendingPerHost?: number;
  /** Compute UDP checksums on send (default true; received checksums are not verified, like a NIC with offload). */
  udpChecksum?: boolean;
  /** IPv4 TTL of sent packets (default 64). */
  ttl?: number;
}

/**
 * Why an endpoint dropped a frame or datagram:
 * `malformed` (short or inconsistent headers), `not-for-me` (another MAC or IP,
 * or an echo reply nobody waits for), `unsupported` (EtherType, IP protocol or
 * ICMP type it does not speak), `bad-checksum` (IPv4 header), `fragment` (no
 * reassembly), `no-socket` (UDP port not bound), `unresolved` (ARP gave no
 * answer for a queued datagram), `queue-full` (too many datagrams waiting for
 * one ARP answer; also counted as `unresolved`), `detached` (sent while not attached).
 */
export type EndpointDropReason =
  | 'malformed'
  | 'not-for-me'
  | 'unsupported'
  | 'bad-checksum'
  | 'fragment'
  | 'no-socket'
  | 'unresolved'
  | 'queue-full'
  | 'detached';

/** Counters of an {@link Endpoint}; totals since construction. */
export interface EndpointCounters {
  /** Frames handed to the endpoint by its segment. */
  rxFrames: number;
  /** Frames the endpoint transmitted. */
  txFrames: number;
  /** UDP datagrams delivered to a bound socket. */
  udpReceived: number;
  /** UDP datagrams put on the segment. */
  udpSent: number;
  /** ICMP echo requests answered. */
  echoRequestsAnswered: number;
  /** Drops by reason. */
  drops: Record<EndpointDropReason, number>;
}

/** Options of {@link Endpoint.ping}. */
export interface PingOptions {
  /** Give up after this many ms, ARP resolution included (default 1000). */
  timeoutMs?: number;
  /** ICMP echo data bytes (default 56, as ping(8)). */
  size?: number;
}


/** @internal zod schema of the `port` argument of {@link Endpoint.bind} (0 picks an ephemeral port). */
export const bindOptionsSchema = z.object({ port: z.number().int().min(0).max(65535) });

/** @internal zod schema of {@link PingOptions}. */
export const pingOptionsSchema = z.object({
  timeoutMs: z.number().positive().default(1000),
  size: z.number().int().min(0).max(65507 - 8).default(56),
});
