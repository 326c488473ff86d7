import { createHash } from 'node:crypto';
import { base32Encode } from './base32';

/** @internal SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** @internal A certificate's SHA-256 fingerprint: 64 lowercase hex digits, no colons. */
export function fingerprintOf(der: Uint8Array): string {
  return Buffer.from(sha256(der)).toString('hex');
}

/** @internal A CA certificate's digest as join tokens pin it: base32 (RFC 4648, lowercase, unpadded) of SHA-256 of its DER — 52 characters. */
export function digestOfDer(der: Uint8Array): string {
  return base32Encode(sha256(der));
}
