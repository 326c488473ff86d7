import nacl from 'tweetnacl';
import { SALT_LENGTH, TAG_LENGTH, type AeadCipher } from './aead-cipher';
import { invalidArgument } from '../options';

/** Length of the associated data this suite folds into its nonce, bytes. */
const XSALSA_AAD_LENGTH = 12;
const NONCE_LENGTH = 24;
const IV_AT = SALT_LENGTH + XSALSA_AAD_LENGTH;

/**
 * XSalsa20-Poly1305 through tweetnacl `secretbox` (pure JavaScript, for
 * runtimes without node:crypto). Secretbox has no associated-data input, so
 * the associated data is bound through the nonce instead:
 * nonce (24 bytes) = salt(4) ‖ aad(12: SPI, seq high, seq low) ‖ IV(8).
 * XSalsa20 derives the one-time Poly1305 key from the nonce, so a packet whose
 * header (or inferred high sequence bits) differs from what was sealed fails
 * the tag exactly as a GCM packet with different AAD does. Sealed layout is
 * secretbox's own: tag(16) ‖ ciphertext.
 */
export class XSalsa20Poly1305 implements AeadCipher {
  readonly suite = 'xsalsa20-poly1305' as const;
  private readonly key: Uint8Array;
  private readonly nonce = new Uint8Array(NONCE_LENGTH);

  constructor(key: Uint8Array, salt: Uint8Array) {
    this.key = Uint8Array.from(key);
    this.nonce.set(salt, 0);
  }

  private setNonce(aad: Uint8Array): Uint8Array {
    if (aad.length !== XSALSA_AAD_LENGTH) {
      throw invalidArgument('xsalsa20-poly1305', 'aad', `must be ${XSALSA_AAD_LENGTH} bytes`, aad);
    }
    const nonce = this.nonce;
    nonce.set(aad, SALT_LENGTH);
    return nonce;
  }

  sealInto(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const nonce = this.setNonce(aad);
    nonce.set(iv, IV_AT);
    out.set(nacl.secretbox(plaintext, nonce, this.key), offset);
  }

  open(source: Uint8Array, ivOffset: number, aad: Uint8Array, sealedOffset: number): Uint8Array | null {
    if (source.length - sealedOffset < TAG_LENGTH) return null;
    const nonce = this.setNonce(aad);
    for (let i = 0; i < 8; i++) nonce[IV_AT + i] = source[ivOffset + i]!;
    return nacl.secretbox.open(source.subarray(sealedOffset), nonce, this.key);
  }
}

