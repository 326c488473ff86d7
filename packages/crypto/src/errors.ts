import { WeftError, type WeftErrorOptions } from '@weft/interface';

/**
 * Base class of every error @weft/crypto defines. It extends `WeftError`, so
 * `isWeftError(err, 'ERR_REPLAY')` recognises these even across two installed
 * copies of `@weft/interface`. Situations several packages share use the
 * shared classes instead: `InvalidOptionsError` (bad options or arguments),
 * `MalformedPacketError` (layer `esp`: too short to be a sealed packet) and
 * `UnderlayClosedError` (send after close).
 */
export class CryptoError extends WeftError {
  override name = 'CryptoError';
  override readonly code: string = 'ERR_CRYPTO';
}

/** The AEAD tag did not verify: the packet was forged, corrupted, or sealed under another key. */
export class AuthenticationError extends CryptoError {
  override name = 'AuthenticationError';
  override readonly code = 'ERR_AUTHENTICATION';
  constructor(
    /** SPI of the security association that rejected the packet. */
    readonly spi: number,
    /** Full 64-bit sequence number inferred for the packet (ESN, RFC 4303 Appendix A). */
    readonly sequence: number,
    options?: WeftErrorOptions,
  ) {
    super(`authentication failed for SPI 0x${hex32(spi)} sequence ${sequence}`, options);
  }
}

/** The packet was already received, or is older than the anti-replay window (RFC 4303 §3.4.3). */
export class ReplayError extends CryptoError {
  override name = 'ReplayError';
  override readonly code = 'ERR_REPLAY';
  constructor(
    /** SPI of the security association that rejected the packet. */
    readonly spi: number,
    /** Full 64-bit sequence number inferred for the packet; -1 when no valid one exists. */
    readonly sequence: number,
    /** `duplicate` (already seen inside the window) or `old` (below the window). */
    readonly reason: 'duplicate' | 'old',
  ) {
    super(`replayed packet for SPI 0x${hex32(spi)}: sequence ${sequence} is ${reason === 'old' ? 'older than the window' : 'a duplicate'}`);
  }
}

/** No security association (or no receive key) exists for the packet's SPI. */
export class UnknownSpiError extends CryptoError {
  override name = 'UnknownSpiError';
  override readonly code = 'ERR_UNKNOWN_SPI';
  constructor(
    /** The SPI the packet carried. */
    readonly spi: number,
  ) {
    super(`unknown SPI 0x${hex32(spi)}`);
  }
}

/**
 * The security association has sent its last allowed sequence number; it
 * refuses to seal again (a wrapped counter would reuse a nonce). Rekey.
 */
export class SequenceExhaustedError extends CryptoError {
  override name = 'SequenceExhaustedError';
  override readonly code = 'ERR_SEQUENCE_EXHAUSTED';
  constructor(
    /** SPI of the exhausted security association. */
    readonly spi: number,
    /** The last sequence number the SA may use. */
    readonly limit: number,
  ) {
    super(`sequence numbers exhausted for SPI 0x${hex32(spi)} (limit ${limit}); rekey required`);
  }
}

/** X25519 agreement produced an all-zero secret (the peer sent a low-order point). */
export class KeyAgreementError extends CryptoError {
  override name = 'KeyAgreementError';
  override readonly code = 'ERR_KEY_AGREEMENT';
}

/**
 * The `KeyRing` was disposed (its secrets are zero-filled): it derives,
 * installs, activates and retires nothing any more. Build a new ring.
 */
export class KeyRingDisposedError extends CryptoError {
  override name = 'KeyRingDisposedError';
  override readonly code = 'ERR_KEY_RING_DISPOSED';
  constructor(
    /** The call that was refused (`KeyRing.pairKey`, ...). */
    readonly operation: string,
  ) {
    super(`${operation}: the key ring is disposed`);
  }
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * A key ring cannot be brought to the requested keys with its three phases
 * (install newer generations, activate a newer send generation, retire older
 * ones): going back to an older send generation, installing a generation
 * older than one installed, a live generation whose secret changed, or two
 * live generations sharing their low 8 bits (part of the SPI). Nothing was changed.
 */
export class KeyPlanError extends CryptoError {
  override name = 'KeyPlanError';
  override readonly code = 'ERR_KEY_PLAN';
  constructor(
    /** Why the transition is impossible. */
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`keys: ${reason}`, options);
  }
}
