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

/**
 * A value handed to an encoder (or a helper such as `parseMac`) that cannot be
 * put on the wire: out of range, malformed text, or a caller buffer too small.
 * `layer` names the codec, `field` the offending field; the message gives the value.
 */
export class InvalidFieldError extends VxlanError {
  override name = 'InvalidFieldError';
  constructor(
    readonly layer: string,
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${layer}: ${field} ${message}`, options);
  }
}

/**
 * Options handed to a public constructor or factory of @weft/vxlan failed
 * validation. `field` is the dotted path of the first offending option
 * (e.g. `mtu`, `flood.0.port`); the message names it and the value.
 */
export class InvalidOptionsError extends VxlanError {
  override name = 'InvalidOptionsError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
