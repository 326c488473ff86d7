/**
 * What the embedded DNS server answers from: one scope per network, a pure
 * view of that network's endpoint and service records (see `dnsScopeOf` in
 * `dns-view.ts`). The server never holds records of its own, so nothing it
 * answers can outlive the records it came from (moby#42833).
 */

/** The internal records of one name on one network. */
export interface DnsNameRecords {
  /** IPv4 addresses (A), in the order to answer. Empty: the name exists but has no A record (NODATA for A). */
  readonly ipv4: readonly string[];
  /** IPv6 addresses (AAAA). Empty: NODATA for AAAA. */
  readonly ipv6: readonly string[];
  /** When true the server rotates the order between answers (a `dnsrr` service name); otherwise answers in the given order. */
  readonly rotate: boolean;
}

/** One network's names, as the DNS server sees them. Names are lowercase without the trailing dot. */
export interface DnsScope {
  /** The network's id. */
  readonly networkId: string;
  /**
   * The records of `name` (already lowercased, no trailing dot), or undefined
   * when the name is not internal to this network (then the server forwards
   * it upstream, or answers SERVFAIL when there is no upstream).
   */
  lookup(name: string): DnsNameRecords | undefined;
  /**
   * PTR targets (names, no trailing dot) of an address: `[]` when the address
   * is inside the network's subnet but has no name (answered NXDOMAIN
   * locally, never forwarded); undefined when it is outside every internal
   * range (forwarded like any external name).
   */
  reverse(ip: string): readonly string[] | undefined;
}

/** The scope of a network id, or undefined when this node does not serve it. */
export type DnsScopeOf = (networkId: string) => DnsScope | undefined;
