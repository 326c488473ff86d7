/** An underlay socket address: an IP literal (IPv4 or IPv6) and a UDP port. */
export interface UnderlayAddress {
  /** IP literal, e.g. `127.0.0.1` or `::1` (never a host name). */
  readonly host: string;
  /** UDP port, 0–65535. */
  readonly port: number;
}

/**
 * The datagram transport a VTEP sends its outer packets over. Implemented by
 * {@link UdpUnderlay} (node:dgram), {@link MemoryUnderlay} (in-process) and,
 * structurally, by `@weft/crypto`'s `EncryptedUnderlay`.
 */
export interface Underlay {
  /** Where this underlay receives. */
  readonly local: UnderlayAddress;
  /**
   * Sends one datagram. Ownership of `packet` passes to the underlay (caller must not modify it after). Never throws on
   * network errors (counted); throws after close(). `flowHash` (optional, any uint32) identifies the inner flow: an
   * underlay that varies its source port per flow (RFC 7348 §5) uses it to pick the port, others ignore it.
   */
  send(packet: Uint8Array, to: UnderlayAddress, flowHash?: number): void;
  /**
   * Present only on underlays that vary the outer source port per flow: the source port a datagram sent with
   * `flowHash` leaves from. Senders use it to record what really goes on the wire.
   */
  readonly sourcePortFor?: (flowHash: number) => number;
  /** Installs the single receive handler; the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: UnderlayAddress) => void): void;
  /** Releases sockets/timers. Idempotent. */
  close(): Promise<void>;
}

/** Formats an address as `host:port` (`[v6]:port` for IPv6). */
export function formatAddress(address: UnderlayAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True when both addresses name the same host and port (textual comparison of the host). */
export function sameAddress(a: UnderlayAddress, b: UnderlayAddress): boolean {
  return a.port === b.port && a.host === b.host;
}
