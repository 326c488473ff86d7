import { hkdfSync } from 'node:crypto';

/**
 * HKDF-SHA256 (RFC 5869) through node:crypto `hkdfSync`. Returns `length`
 * new bytes. Runtimes without node:crypto can substitute any RFC 5869
 * implementation over SHA-256 (for example WebCrypto `deriveBits` with
 * `{ name: 'HKDF', hash: 'SHA-256' }`, asynchronous) — the derivation inputs
 * are plain bytes, documented in docs/crypto.md.
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}
