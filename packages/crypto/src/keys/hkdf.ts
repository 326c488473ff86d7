import { hkdfSync } from 'node:crypto';
import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { anyBytesSchema } from '../options';

/** Largest output RFC 5869 allows for SHA-256: 255 × 32 bytes. */
const MAX_LENGTH = 255 * 32;
const argsSchema = z.object({ ikm: anyBytesSchema, salt: anyBytesSchema, info: anyBytesSchema, length: z.number().int().min(1).max(MAX_LENGTH) });

/**
 * HKDF-SHA256 (RFC 5869) through node:crypto `hkdfSync`. Returns `length`
 * new bytes. Runtimes without node:crypto can substitute any RFC 5869
 * implementation over SHA-256 (for example WebCrypto `deriveBits` with
 * `{ name: 'HKDF', hash: 'SHA-256' }`, asynchronous) — the derivation inputs
 * are plain bytes, documented in docs/crypto.md.
 * @throws InvalidOptionsError whose `field` names the bad argument (`length` must be 1 … 8160 bytes).
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  parseOptions(argsSchema, { ikm, salt, info, length }, 'hkdfSha256');
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}
