/** Names of the AEAD suites a security association can use. */
export type SuiteName = 'aes-256-gcm' | 'chacha20-poly1305' | 'xsalsa20-poly1305';

/** Every suite name, default first. */
export const SUITE_NAMES: readonly SuiteName[] = ['aes-256-gcm', 'chacha20-poly1305', 'xsalsa20-poly1305'];

/** Key length of every suite, bytes. */
export const KEY_LENGTH = 32;
/** Salt length of every suite (the implicit nonce prefix, RFC 4106 §4 / RFC 7634 §2), bytes. */
export const SALT_LENGTH = 4;
/** Explicit per-packet IV length carried on the wire, bytes. */
export const IV_LENGTH = 8;
/** Authentication tag length of every suite, bytes. */
export const TAG_LENGTH = 16;

/**
 * One AEAD keyed with a key and salt. The packet layer (`sa/packet.ts`) frames
 * its input and output; this layer only encrypts.
 */
export interface AeadCipher {
  readonly suite: SuiteName;
  /**
   * Encrypts `plaintext` under nonce derived from the salt and `iv` (8 bytes),
   * authenticating `aad`, and writes the `plaintext.length + 16` sealed bytes
   * into `out` at `offset` (ciphertext then tag; for xsalsa20-poly1305 the
   * secretbox order, tag then ciphertext). Reads `iv`, `aad`, `plaintext`
   * only during the call.
   */
  sealInto(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void;
  /**
   * Verifies and decrypts: the 8-byte IV is `source[ivOffset … ivOffset + 8)`,
   * the sealed bytes (as written by `sealInto`) are `source[sealedOffset …
   * end)`. Offsets instead of views keep the per-packet path free of
   * allocations. Returns a new plaintext buffer owned by the caller, or `null`
   * when the tag does not verify (or fewer than 16 sealed bytes). Never throws
   * for bad bytes; `source` is read during the call only.
   */
  open(source: Uint8Array, ivOffset: number, aad: Uint8Array, sealedOffset: number): Uint8Array | null;
}
