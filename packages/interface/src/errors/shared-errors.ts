import { WeftError, type WeftErrorOptions } from './weft-error';

/**
 * Options handed to a public constructor or factory failed validation.
 * `field` is the dotted path of the first offending option (`mtu`,
 * `peers.0.port`, or `(options)` when the options object itself is wrong);
 * the message is one line naming the field, the problem and the value.
 */
export class InvalidOptionsError extends WeftError {
  override name = 'InvalidOptionsError';
  override readonly code = 'ERR_INVALID_OPTIONS';
  constructor(
    /** Dotted path of the offending option. */
    readonly field: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Input bytes that are short or malformed for the layer being decoded. A
 * receive path drops and counts such input; it never crashes a handler.
 */
export class MalformedPacketError extends WeftError {
  override name = 'MalformedPacketError';
  override readonly code = 'ERR_MALFORMED_PACKET';
  constructor(
    /** The codec or layer that refused the bytes (`vxlan`, `ipv4`, `esp`, `raft-message`, ...). */
    readonly layer: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(`${layer}: ${message}`, options);
  }
}

/** Text that is not a valid IP, MAC or socket address. */
export class InvalidAddressError extends WeftError {
  override name = 'InvalidAddressError';
  override readonly code = 'ERR_INVALID_ADDRESS';
  constructor(
    /** Which kind of address was expected. */
    readonly kind: 'IP' | 'MAC' | 'socket',
    /** The offending text. */
    readonly text: string,
    /** What was wrong with it. */
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`invalid ${kind} address ${JSON.stringify(text)}: ${reason}`, options);
  }
}

/** A send on an underlay (UDP, in-memory, encrypted) after it was closed. */
export class UnderlayClosedError extends WeftError {
  override name = 'UnderlayClosedError';
  override readonly code = 'ERR_UNDERLAY_CLOSED';
  constructor(
    /** The underlay's local address or another description of it. */
    readonly underlay: string,
    options?: WeftErrorOptions,
  ) {
    super(`underlay ${underlay} is closed`, options);
  }
}
