/**
 * The underlay shape @weft/vxlan defines; repeated here (structurally
 * identical) so @weft/crypto does not depend on @weft/vxlan.
 */
export interface UnderlayAddress {
  readonly host: string;
  readonly port: number;
}

/** A datagram socket abstraction (UDP, in-memory, or an `EncryptedUnderlay` around either). */
export interface Underlay {
  readonly local: UnderlayAddress;
  /**
   * Sends one datagram. Ownership of `packet` passes to the underlay (caller must not modify it after). Never throws on
   * network errors (counted); throws after close(). `flowHash` (optional) identifies the inner flow for underlays that
   * vary their source port per flow; others ignore it.
   */
  send(packet: Uint8Array, to: UnderlayAddress, flowHash?: number): void;
  /** Present only on underlays that vary the source port per flow: the port a datagram sent with `flowHash` leaves from. */
  readonly sourcePortFor?: (flowHash: number) => number;
  /** Installs the single receive handler; the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: UnderlayAddress) => void): void;
  /** Releases sockets/timers. Idempotent. */
  close(): Promise<void>;
}
