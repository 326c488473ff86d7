import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { IV_LENGTH, SALT_LENGTH, TAG_LENGTH, type AeadCipher } from './aead-cipher';

type NodeSuite = 'aes-256-gcm' | 'chacha20-poly1305';

// Local copies: imported bindings compile to getter calls under CJS interop, and this is the per-packet path.
const SALT = SALT_LENGTH;
const TAG = TAG_LENGTH;

/**
 * AES-256-GCM (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) through node:crypto.
 * Nonce (12 bytes) = 4-byte salt ‖ 8-byte IV in both.
 */
export class NodeAead implements AeadCipher {
  private readonly key: KeyObject;
  /** Reused nonce buffer: salt in bytes 0–3, IV copied into 4–11 per call (node copies the IV). */
  private readonly nonce: Buffer;
  /** Reused tag buffer for `open` (node copies the tag in `setAuthTag`). */
  private readonly tag = Buffer.alloc(TAG_LENGTH);
  private readonly options = { authTagLength: TAG_LENGTH } as const;

  // The cast below only picks node's AEAD overload; chacha20-poly1305 takes the same options.
  constructor(
    readonly suite: NodeSuite,
    key: Uint8Array,
    salt: Uint8Array,
  ) {
    this.key = createSecretKey(key);
    this.nonce = Buffer.alloc(SALT_LENGTH + IV_LENGTH);
    this.nonce.set(salt, 0);
  }

  sealInto(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const nonce = this.nonce;
    for (let i = 0; i < 8; i++) nonce[SALT + i] = iv[i]!;
    const cipher = createCipheriv(this.suite as 'aes-256-gcm', this.key, nonce, this.options);
    if (aad.length > 0) cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    out.set(body, offset);
    const tail = cipher.final();
    if (tail.length > 0) out.set(tail, offset + body.length);
    out.set(cipher.getAuthTag(), offset + plaintext.length);
  }

  open(source: Uint8Array, ivOffset: number, aad: Uint8Array, sealedOffset: number): Uint8Array | null {
    const end = source.length;
    const split = end - TAG;
    if (split < sealedOffset) return null;
    const nonce = this.nonce;
    for (let i = 0; i < 8; i++) nonce[SALT + i] = source[ivOffset + i]!;
    // The tag is copied into a scratch buffer and the ciphertext is viewed
    // through a plain Uint8Array: `subarray` of a node Buffer (what a socket
    // delivers) goes through the species constructor, a JS call per view.
    const tag = this.tag;
    for (let i = 0; i < TAG; i++) tag[i] = source[split + i]!;
    const sealed = new Uint8Array(source.buffer, source.byteOffset + sealedOffset, split - sealedOffset);
    try {
      const decipher = createDecipheriv(this.suite as 'aes-256-gcm', this.key, nonce, this.options);
      decipher.setAuthTag(tag);
      if (aad.length > 0) decipher.setAAD(aad);
      const body = decipher.update(sealed);
      const tail = decipher.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      // node:crypto signals a bad tag by throwing from final().
      return null;
    }
  }
}
