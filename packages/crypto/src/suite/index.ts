import { KEY_LENGTH, SALT_LENGTH, type AeadCipher, type SuiteName } from './aead-cipher';
import { NodeAead } from './node-aead';
import { XSalsa20Poly1305 } from './xsalsa20-poly1305';
import { InvalidOptionsError } from '../errors';

export * from './aead-cipher';

/**
 * Creates the cipher for `suite` keyed with `key` (32 bytes) and `salt`
 * (4 bytes). Both are copied. Throws `InvalidOptionsError` on wrong lengths.
 */
export function createAeadCipher(suite: SuiteName, key: Uint8Array, salt: Uint8Array): AeadCipher {
  if (key.length !== KEY_LENGTH) throw new InvalidOptionsError(`${suite}: key must be ${KEY_LENGTH} bytes, got ${key.length}`);
  if (salt.length !== SALT_LENGTH) throw new InvalidOptionsError(`${suite}: salt must be ${SALT_LENGTH} bytes, got ${salt.length}`);
  switch (suite) {
    case 'aes-256-gcm':
    case 'chacha20-poly1305':
      return new NodeAead(suite, key, salt);
    case 'xsalsa20-poly1305':
      return new XSalsa20Poly1305(key, salt);
  }
}
