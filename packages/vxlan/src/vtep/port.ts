import type { Segment } from './segment';

/** Bytes of headroom before a frame that let the VTEP encapsulate it in place (the VXLAN header). */
export const VXLAN_HEADROOM = 8;

/**
 * Something that attaches to a {@link Segment} like a NIC to a bridge: an
 * `Endpoint`, a TAP device, a test probe. The segment installs a static FDB
 * entry for `mac` while the port is attached.
 */
export interface Port {
  /** The port's MAC address, `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /**
   * A frame for this port (unicast to `mac`, or broadcast/multicast). The port
   * owns `frame` from then on. Must not throw: the segment catches and counts
   * exceptions but a throwing port loses the frame.
   */
  receive(frame: Uint8Array): void;
  /** Called once by `Segment.attach` with the link to transmit on. */
  attached?(link: PortLink): void;
  /** Called once when the port is detached (or the segment/VTEP closes). */
  detached?(): void;
}

/** What a {@link Port} transmits through; handed to it by `Segment.attach`. */
export interface PortLink {
  /** The segment the port is attached to. */
  readonly segment: Segment;
  /**
   * Sends one Ethernet frame (no FCS) into the segment. Ownership of `frame`
   * passes to the segment. Frames over the MTU or malformed are dropped and
   * counted, never thrown; after detach they are dropped as `detached`.
   *
   * `headroom` (default 0) is how many bytes directly before `frame` in
   * `frame.buffer` also pass to the segment: with at least
   * {@link VXLAN_HEADROOM} bytes the VTEP writes the VXLAN header there and
   * sends without copying the frame.
   */
  transmit(frame: Uint8Array, headroom?: number): void;
  /** Detaches the port (idempotent). */
  detach(): void;
}
