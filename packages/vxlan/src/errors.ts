/** Base class of every error @weft/vxlan throws. */
export class VxlanError extends Error {
  override name = 'VxlanError';
}

/**
 * Input bytes that are short or malformed for the layer being decoded.
 * `layer` names the codec (`vxlan`, `ethernet`, `arp`, `ipv4`, `icmpv4`, `udp`, `pcap`).
 */
export class MalformedPacketError extends VxlanError {
  override name = 'MalformedPacketError';
  constructor(
    readonly layer: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${layer}: ${message}`, options);
  }
}
