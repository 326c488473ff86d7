import { WeftError, type WeftErrorOptions } from '@weft/interface';

/**
 * Base class of every error @weft/vxlan defines. The shared situations use
 * the shared classes of `@weft/interface` instead (re-exported here):
 * `InvalidOptionsError` (bad constructor/factory options), `MalformedPacketError`
 * (a decoder refused input bytes), `InvalidAddressError` (malformed IP or MAC
 * text) and `UnderlayClosedError` (a send after `close()`).
 */
export class VxlanError extends WeftError {
  override name = 'VxlanError';
  /** Stable code: `ERR_VXLAN` for this class, a more specific `ERR_…` for each subclass. */
  override readonly code: string = 'ERR_VXLAN';
}

/**
 * A value handed to an encoder (or a wire-level `write*` helper) that cannot be
 * put on the wire: out of range, malformed address text, or a caller buffer too small.
 * `layer` names the codec, `field` the offending field; the message gives the value.
 */
export class InvalidFieldError extends VxlanError {
  override name = 'InvalidFieldError';
  override readonly code = 'ERR_INVALID_FIELD';
  constructor(
    /** The codec that refused the value (`vxlan`, `ethernet`, `arp`, `ipv4`, `icmpv4`, `udp`, `mac`, `pcap`). */
    readonly layer: string,
    /** The offending field (`vni`, `srcPort`, `buf`, ...). */
    readonly field: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(`${layer}: ${field} ${message}`, options);
  }
}

export { InvalidOptionsError, MalformedPacketError, InvalidAddressError, UnderlayClosedError } from '@weft/interface';
