import { isValidIpv4, isValidMac, systemClock, type Clock, type Random } from '@weft/interface';
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
  nameserver: z.string().refine(isValidIpv4, 'must be a dotted-quad IPv4 address').optional(),
  maxLookups: z.number().int().min(1).max(65_536).default(64),
  random: z.custom<Random>((v) => typeof v === 'function', 'must be a function returning [0, 1)').optional(),
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
  /**
   * IPv4 address (dotted quad) of the DNS server {@link Endpoint.resolve} queries on UDP port 53,
   * over the segment, as a container's `/etc/resolv.conf` names one. None by default:
   * lookups of names then reject with NoNameserverError. Change it later with {@link Endpoint.setNameserver}.
   */
  nameserver?: string;
  /** Name lookups in flight at once; more are refused with TooManyLookupsError (default 64). */
  maxLookups?: number;
  /**
   * Source of DNS query ids and lookup source ports, uniform in [0, 1)
   * (default: `node:crypto`, so off-path spoofers cannot guess them; inject a seeded one to replay a test).
   */
  random?: Random;
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
  /** Name resolution ({@link Endpoint.resolve}). */
  dns: EndpointDnsCounters;
}

/** DNS counters of an {@link Endpoint}; totals since construction. */
export interface EndpointDnsCounters {
  /** Query datagrams sent (retries included). */
  queries: number;
  /** Lookups settled by a reply (with addresses or with a DNS error). */
  replies: number;
  /** Lookups that got no matching reply after every attempt. */
  timeouts: number;
  /**
   * Datagrams ignored on a lookup's socket: from another source than
   * nameserver:53, or a DNS message that is not the reply (id, QR, opcode or question differ).
   */
  mismatched: number;
  /** Datagrams from nameserver:53 ignored because they did not decode as a DNS message. */
  malformed: number;
}

/** Options of {@link Endpoint.ping}. */
export interface PingOptions {
  /**
   * Give up after this many ms, ARP resolution included (default 1000). Looking
   * up a name comes before and is not included: it has the default {@link ResolveOptions}.
   */
  timeoutMs?: number;
  /** ICMP echo data bytes (default 56, as ping(8)). */
  size?: number;
}


/** @internal zod schema of the `port` argument of {@link Endpoint.bind} (0 picks an ephemeral port). */
export const bindOptionsSchema = z.object({ port: z.number().int().min(0).max(65535) });

/** Options of {@link Endpoint.resolve}. */
export interface ResolveOptions {
  /** Wait for a reply to each query, in ms (default 1000). */
  timeoutMs?: number;
  /** Queries sent before giving up with DnsTimeoutError: the first one plus retries (default 2, at most 10). */
  attempts?: number;
  /** Address family: 4 (A records), the only one an IPv4 endpoint uses (default 4). */
  family?: 4;
}

/** @internal zod schema of {@link ResolveOptions}. */
export const resolveOptionsSchema = z.object({
  timeoutMs: z.number().positive().max(2_147_483_647).default(1000),
  attempts: z.number().int().min(1).max(10).default(2),
  family: z.literal(4).default(4),
});

/** @internal zod schema of the argument of {@link Endpoint.setNameserver}. */
export const nameserverArgumentSchema = z.object({
  nameserver: z.string().refine(isValidIpv4, 'must be a dotted-quad IPv4 address').optional(),
});

/** @internal zod schema of {@link PingOptions}. */
export const pingOptionsSchema = z.object({
  timeoutMs: z.number().positive().default(1000),
  size: z.number().int().min(0).max(65507 - 8).default(56),
});
