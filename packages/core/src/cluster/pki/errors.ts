import type { WeftErrorOptions } from '@weft/interface';
import { CoreError } from '../../errors';

/**
 * Text that is not a well-formed certificate of the kind expected: not one
 * PEM block / DER structure, or a node certificate without a known role in
 * its OU, without its `weft://` URI, or marked as a CA; or a CA certificate
 * that is not a Weft cluster CA.
 */
export class MalformedCertificateError extends CoreError {
  override name = 'MalformedCertificateError';
  override readonly code = 'ERR_MALFORMED_CERTIFICATE';
  constructor(
    /** What is wrong, e.g. `OU (role) "admin" is not manager or worker`. */
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`malformed certificate: ${reason}`, options);
  }
}

/** A certificate that the cluster CA did not issue (wrong issuer, bad signature, another cluster), or a TLS peer that was not verified. */
export class CertificateNotTrustedError extends CoreError {
  override name = 'CertificateNotTrustedError';
  override readonly code = 'ERR_CERTIFICATE_NOT_TRUSTED';
  constructor(
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`certificate not trusted: ${reason}`, options);
  }
}

/** A certificate used outside its validity period (expired, or not valid yet). */
export class CertificateExpiredError extends CoreError {
  override name = 'CertificateExpiredError';
  override readonly code = 'ERR_CERTIFICATE_EXPIRED';
  constructor(
    /** Whose certificate, e.g. `node "n1"` or `cluster CA "c1"`. */
    readonly subject: string,
    readonly notBefore: Date,
    readonly notAfter: Date,
    /** The time it was checked at. */
    readonly at: Date,
  ) {
    super(
      `certificate of ${subject} is ${at.getTime() < notBefore.getTime() ? 'not valid yet' : 'expired'}: ` +
        `valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}, checked at ${at.toISOString()}`,
    );
  }
  /** `true` when the check was after `notAfter`, `false` when before `notBefore`. */
  get expired(): boolean {
    return this.at.getTime() > this.notAfter.getTime();
  }
}

/** A certificate whose serial number is on the deny list (its node was removed or its key compromised). */
export class CertificateRevokedError extends CoreError {
  override name = 'CertificateRevokedError';
  override readonly code = 'ERR_CERTIFICATE_REVOKED';
  constructor(
    /** Serial number, lowercase hex. */
    readonly serial: string,
    readonly nodeId: string,
  ) {
    super(`certificate ${serial} of node ${JSON.stringify(nodeId)} is revoked`);
  }
}

/** A certificate signing request the CA refuses: not a CSR, its self-signature does not verify (no proof of possession), or its key is not ECDSA P-256. */
export class CsrRejectedError extends CoreError {
  override name = 'CsrRejectedError';
  override readonly code = 'ERR_CSR_REJECTED';
  constructor(
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`certificate signing request rejected: ${reason}`, options);
  }
}

/** A private key that is not one PKCS#8 ECDSA P-256 key, or that does not belong to the certificate it came with. */
export class MalformedKeyError extends CoreError {
  override name = 'MalformedKeyError';
  override readonly code = 'ERR_MALFORMED_KEY';
  constructor(
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`malformed private key: ${reason}`, options);
  }
}

/**
 * Text that is not a join token (`WEFT-1-<digest>-<secret>`). The message
 * says which part is wrong and never repeats the token: it holds a secret.
 */
export class InvalidJoinTokenError extends CoreError {
  override name = 'InvalidJoinTokenError';
  override readonly code = 'ERR_INVALID_JOIN_TOKEN';
  constructor(readonly reason: string) {
    super(`invalid join token: ${reason}`);
  }
}

/**
 * The join token pins another CA than the one presented: on a joining node,
 * the manager it reached is not of the cluster the token is for (or is an
 * impostor); on a manager, the token was made for a previous CA.
 */
export class JoinTokenCaMismatchError extends CoreError {
  override name = 'JoinTokenCaMismatchError';
  override readonly code = 'ERR_JOIN_TOKEN_CA_MISMATCH';
  constructor(
    /** The CA digest the token pins. */
    readonly tokenDigest: string,
    /** The digest of the CA certificate actually presented / held. */
    readonly caDigest: string,
  ) {
    super(`join token pins CA ${tokenDigest}, but the cluster CA is ${caDigest}`);
  }
}

/** A well-formed join token whose secret matches no current token of the cluster (never issued, or rotated away). */
export class JoinTokenRejectedError extends CoreError {
  override name = 'JoinTokenRejectedError';
  override readonly code = 'ERR_JOIN_TOKEN_REJECTED';
  constructor() {
    super('join token rejected: its secret matches no current token (unknown or rotated)');
  }
}

/** A verified TLS peer that is not the node or role the caller dialled for (see `tlsOptionsFor`'s `peer`). */
export class UnexpectedPeerError extends CoreError {
  override name = 'UnexpectedPeerError';
  override readonly code = 'ERR_UNEXPECTED_PEER';
  constructor(
    /** What was expected, e.g. `role "manager"`. */
    readonly expected: string,
    /** What the certificate says, e.g. `node "n2" (worker)`. */
    readonly actual: string,
  ) {
    super(`TLS peer is ${actual}, expected ${expected}`);
  }
}
