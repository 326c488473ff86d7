/**
 * The pair-key derivation, pinned. The HKDF info below is written out by hand
 * from the layout in docs/crypto.md (not produced by our encoder), and the
 * expected output was computed outside this code base, with OpenSSL:
 *
 *     openssl kdf -keylen 40 -kdfopt digest:SHA256 \
 *       -kdfopt hexkey:000102…1e1f -kdfopt hexsalt:<SALT> -kdfopt hexinfo:<INFO> HKDF
 *
 * (and checked again with Python's hmac/hashlib HKDF). If this test fails, the
 * wire keys changed: nodes before and after the change cannot talk.
 */
import { derivePairKey, hkdfSha256, PAIR_KEY_HKDF_SALT } from '../src';
import { hex, toHex } from './support/hex';

const SECRET = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
/** "weft/crypto/v2 pair-key" */
const SALT = '776566742f63727970746f2f763220706169722d6b6579';
const INFO =
  '65737000' + // "esp" 0x00
  '6165732d3235362d67636d' + '00' + // "aes-256-gcm" 0x00
  '00000007' + // generation 7, u32
  '0006' + '6e6f64652d61' + // len, "node-a" (from)
  '0010' + '30313233343536373839616263646566' + // len, "0123456789abcdef" (fromEpoch)
  '0006' + '6e6f64652d62' + // len, "node-b" (to)
  '0010' + '66656463626139383736353433323130'; // len, "fedcba9876543210" (toEpoch)
/** OpenSSL's 40 bytes: key(32) ‖ salt(4) ‖ SPI bits(3) ‖ unused(1). */
const OKM = '5d6f9fda202e2ae11402c4de4209c466b575268410acbfe7044e2f78918cadbb' + 'cfd79934' + '8f5577' + '8f';

describe('derivePairKey', () => {
  const k = derivePairKey(SECRET, 'aes-256-gcm', 7, 'node-a', 'node-b', '0123456789abcdef', 'fedcba9876543210');

  it('is HKDF-SHA256 over the documented salt and info layout', () => {
    expect(toHex(PAIR_KEY_HKDF_SALT)).toBe(SALT);
    expect(toHex(hkdfSha256(SECRET, hex(SALT), hex(INFO), 40))).toBe(OKM);
  });

  it('derives the pinned key, salt and SPI (24 derived bits, then the generation byte)', () => {
    expect(toHex(k.key)).toBe(OKM.slice(0, 64));
    expect(toHex(k.salt)).toBe(OKM.slice(64, 72));
    expect(k.spi).toBe(0x8f557707);
    expect(k).toMatchObject({ suite: 'aes-256-gcm', generation: 7, from: 'node-a', to: 'node-b', fromEpoch: '0123456789abcdef', toEpoch: 'fedcba9876543210' });
  });

  it('binds every input: changing any one changes the key', () => {
    const variants = [
      derivePairKey(SECRET, 'aes-256-gcm', 7, 'node-a', 'node-b', '0123456789abcdee', 'fedcba9876543210'),
      derivePairKey(SECRET, 'aes-256-gcm', 7, 'node-a', 'node-b', '0123456789abcdef', 'fedcba9876543211'),
      derivePairKey(SECRET, 'aes-256-gcm', 7, 'node-a', 'node-b', 'fedcba9876543210', '0123456789abcdef'),
      derivePairKey(SECRET, 'aes-256-gcm', 8, 'node-a', 'node-b', '0123456789abcdef', 'fedcba9876543210'),
      derivePairKey(SECRET, 'chacha20-poly1305', 7, 'node-a', 'node-b', '0123456789abcdef', 'fedcba9876543210'),
      derivePairKey(SECRET, 'aes-256-gcm', 7, 'node-b', 'node-a', '0123456789abcdef', 'fedcba9876543210'),
    ];
    const keys = new Set([toHex(k.key), ...variants.map((v) => toHex(v.key))]);
    expect(keys.size).toBe(variants.length + 1);
  });
});
