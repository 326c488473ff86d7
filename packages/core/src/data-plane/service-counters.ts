/** Why the service shim dropped something on its way to or from the network's DNS address. */
export const DNS_DROP_REASONS = [
  /** A query arrived while no `DnsQueryHandler` was set. */
  'no-handler',
  /** Traffic to the DNS address that is not UDP to port 53 (ping, other ports, other protocols). */
  'not-dns',
  /** A malformed IPv4/UDP frame to the DNS address. */
  'malformed',
  /** The handler threw, rejected, or resolved with something other than bytes. */
  'handler-error',
  /** The handler's reply does not fit one UDP datagram (over 65507 bytes). */
  'reply-too-large',
  /** The asking endpoint was detached or closed when the reply came. */
  'undeliverable',
  /** The endpoint threw while receiving a synthesized frame (a socket listener's exception). */
  'port-error',
] as const;

/** A {@link DNS_DROP_REASONS} member. */
export type DnsDropReason = (typeof DNS_DROP_REASONS)[number];

/** Counters of the DNS path of one network (or, summed, of the plane). */
export interface DnsCounters {
  /** ARP requests for the DNS address answered by the shim (never forwarded). */
  arpAnswered: number;
  /** Queries handed to the `DnsQueryHandler`. */
  queries: number;
  /** Replies delivered back to the asking endpoint (from the DNS address, port 53). */
  replies: number;
  /** Queries the handler chose not to answer (resolved undefined). */
  noReply: number;
  /** Drops by reason. */
  drops: Record<DnsDropReason, number>;
}

/** Why the service shim dropped a frame to or from a VIP. */
export const LB_DROP_REASONS = [
  /** A new flow (or one whose backend was removed) found no `up` backend. */
  'no-backend',
  /** The chosen backend's MAC is unknown: no local endpoint and no neighbour entry holds its address. */
  'unresolved',
  /** Traffic to a VIP that is neither UDP nor ICMP echo (or a fragment). */
  'unsupported',
  /** A malformed IPv4 frame to a VIP. */
  'malformed',
  /** The endpoint was detached or closed before an ARP or echo reply made here reached it. */
  'undeliverable',
  /** The endpoint threw while receiving a synthesized frame (ARP or echo reply). */
  'port-error',
] as const;

/** A {@link LB_DROP_REASONS} member. */
export type LbDropReason = (typeof LB_DROP_REASONS)[number];

/** Counters of client-side VIP load balancing of one network (or, summed, of the plane). */
export interface LbCounters {
  /** ARP requests for a VIP answered by the shim. */
  arpAnswered: number;
  /** ICMP echo requests to a VIP answered by the shim (from the VIP). */
  echoAnswered: number;
  /** Flows pinned to a backend for the first time. */
  newFlows: number;
  /** Datagrams to a VIP rewritten to their flow's backend and sent. */
  rewrittenOut: number;
  /** Datagrams from a backend rewritten to come from the VIP. */
  rewrittenIn: number;
  /** Flows whose backend was removed, pinned again to another on their next datagram. */
  moved: number;
  /** Flows forgotten after being idle longer than `serviceFlowIdleMs`. */
  expired: number;
  /** Flows forgotten because the endpoint's flow table was full (the oldest goes). */
  evicted: number;
  /** Drops by reason. */
  drops: Record<LbDropReason, number>;
}

function zeroes<R extends string>(reasons: readonly R[]): Record<R, number> {
  const out = {} as Record<R, number>;
  for (const r of reasons) out[r] = 0;
  return out;
}

/** Zeroed {@link DnsCounters}. */
export function emptyDnsCounters(): DnsCounters {
  return { arpAnswered: 0, queries: 0, replies: 0, noReply: 0, drops: zeroes(DNS_DROP_REASONS) };
}

/** Zeroed {@link LbCounters}. */
export function emptyLbCounters(): LbCounters {
  return { arpAnswered: 0, echoAnswered: 0, newFlows: 0, rewrittenOut: 0, rewrittenIn: 0, moved: 0, expired: 0, evicted: 0, drops: zeroes(LB_DROP_REASONS) };
}

/** The counters of one network's service shims. */
export interface ServiceCounters {
  readonly dns: DnsCounters;
  readonly lb: LbCounters;
}

/** Zeroed {@link ServiceCounters}. */
export function emptyServiceCounters(): ServiceCounters {
  return { dns: emptyDnsCounters(), lb: emptyLbCounters() };
}

/** Adds `c` into `into`, field by field and drops by reason. */
export function addServiceCounters(into: ServiceCounters, c: ServiceCounters): void {
  for (const part of ['dns', 'lb'] as const) {
    const to = into[part] as unknown as Record<string, number> & { drops: Record<string, number> };
    const from = c[part] as unknown as Record<string, number> & { drops: Record<string, number> };
    for (const [k, v] of Object.entries(from)) if (typeof v === 'number') to[k] = (to[k] ?? 0) + v;
    for (const [r, v] of Object.entries(from.drops)) to.drops[r] = (to.drops[r] ?? 0) + v;
  }
}

/** Writes `c` into `out` as `<prefix>dns.<field>`, `<prefix>dns.drops.<reason>`, `<prefix>lb.<field>`, `<prefix>lb.drops.<reason>`. */
export function putServiceCounters(out: Record<string, number>, prefix: string, c: ServiceCounters): void {
  for (const part of ['dns', 'lb'] as const) {
    const from = c[part] as unknown as Record<string, number | Record<string, number>>;
    for (const [k, v] of Object.entries(from)) {
      if (typeof v === 'number') out[`${prefix}${part}.${k}`] = v;
      else for (const [r, n] of Object.entries(v)) out[`${prefix}${part}.drops.${r}`] = n;
    }
  }
}
