import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { bytesSchema, suiteNameSchema } from '../options';
import { KEY_LENGTH, SALT_LENGTH, type AeadCipher, type SuiteName } from './aead-cipher';
import { NodeAead } from './node-aead';
import { XSalsa20Poly1305 } from './xsalsa20-poly1305';

export * from './aead-cipher';

const cipherArgsSchema = z.object({ suite: suiteNameSchema, key: bytesSchema(KEY_LENGTH), salt: bytesSchema(SALT_LENGTH) });

/**
 * Creates the cipher for `suite` keyed with `key` (32 bytes) and `salt`
 * (4 bytes). Both are copied.
 * @throws InvalidOptionsError (`field` `suite`, `key` or `salt`) for an unknown suite or wrong lengths.
 */
export function createAeadCipher(suite: SuiteName, key: Uint8Array, salt: Uint8Array): AeadCipher {
  const a = parseOptions(cipherArgsSchema, { suite, key, salt }, 'createAeadCipher');
  switch (a.suite) {
    case 'aes-256-gcm':
    case 'chacha20-poly1305':
      return new NodeAead(a.suite, a.key, a.salt);
    case 'xsalsa20-poly1305':
      return new XSalsa20Poly1305(a.key, a.salt);
  }
}
