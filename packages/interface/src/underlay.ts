import type { SocketAddress } from './address/socket-address';

/**
 * The datagram transport a VTEP sends its outer packets over. `@weft/vxlan`
 * implements it with `UdpUnderlay` (node:dgram) and `MemoryUnderlay`
 * (in-process); `@weft/crypto`'s `EncryptedUnderlay` wraps any of them.
 */
export interface Underlay {
  /** Where this underlay receives. */
  readonly local: SocketAddress;
  /**
   * Sends one datagram. Ownership of `packet` passes to the underlay (the
   * caller must not modify it afterwards). Never throws on network errors
   * (they are counted); throws `UnderlayClosedError` after `close()`.
   * `flowHash` (optional, any uint32) identifies the inner flow: an underlay
   * that varies its source port per flow (RFC 7348 §5) uses it to pick the
   * port; others ignore it.
   */
  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void;
  /**
   * Present only on underlays that vary the outer source port per flow: the
   * source port a datagram sent with `flowHash` leaves from.
   */
  readonly sourcePortFor?: (flowHash: number) => number;
  /** Installs the single receive handler (replacing any previous one); the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void;
  /** Releases sockets and timers. Idempotent. */
  close(): Promise<void>;
}
