import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { generationSchema, nodeIdSchema, secretSchema, suiteNameSchema } from '../options';
import { KEY_LENGTH, SALT_LENGTH, type SuiteName } from '../suite/aead-cipher';
import { hkdfSha256 } from './hkdf';

/** Keying material of one direction of one node pair under one generation. */
export interface PairKey {
  /** Suite the key is for (part of the derivation, so keys never cross suites). */
  readonly suite: SuiteName;
  /** Key generation the material comes from. */
  readonly generation: number;
  /** Sending node. */
  readonly from: string;
  /** Receiving node. */
  readonly to: string;
  /** SPI: 24 derived bits, then the generation's low 8 bits (never 0–255). */
  readonly spi: number;
  /** 32-byte AEAD key. */
  readonly key: Uint8Array;
  /** 4-byte salt. */
  readonly salt: Uint8Array;
}

/** HKDF salt: a fixed, versioned label (RFC 5869 §3.1 allows a non-secret constant). */
export const PAIR_KEY_HKDF_SALT = new TextEncoder().encode('weft/crypto/v1 pair-key');

const encoder = new TextEncoder();

const argsSchema = z.object({ secret: secretSchema, suite: suiteNameSchema, generation: generationSchema, from: nodeIdSchema, to: nodeIdSchema });

/**
 * HKDF info for (suite, generation, from, to):
 * `"esp" 0x00 suite 0x00 generation(u32 BE) len(from)(u16 BE) from len(to)(u16 BE) to`.
 * Length prefixes keep ("ab","c") and ("a","bc") apart.
 */
function pairKeyInfo(suite: SuiteName, generation: number, from: string, to: string): Uint8Array {
  const s = encoder.encode(suite);
  const f = encoder.encode(from);
  const t = encoder.encode(to);
  const info = new Uint8Array(3 + 1 + s.length + 1 + 4 + 2 + f.length + 2 + t.length);
  const view = new DataView(info.buffer);
  let o = 0;
  info.set(encoder.encode('esp'), o);
  o += 4; // "esp" + 0x00
  info.set(s, o);
  o += s.length + 1;
  view.setUint32(o, generation);
  o += 4;
  view.setUint16(o, f.length);
  info.set(f, o + 2);
  o += 2 + f.length;
  view.setUint16(o, t.length);
  info.set(t, o + 2);
  return info;
}

/**
 * Derives the key, salt and SPI for traffic `from` → `to` under `secret`
 * (the cluster secret of `generation`): HKDF-SHA256 → 40 bytes = key(32) ‖
 * salt(4) ‖ spi-bits(4). Deterministic: every node derives the same values.
 * @throws InvalidOptionsError whose `field` names the bad argument (`secret` under 32 bytes, an unknown `suite`,
 * a `generation` outside 0 … 2^32 − 1, a node id not 1–255 characters).
 */
export function derivePairKey(secret: Uint8Array, suite: SuiteName, generation: number, from: string, to: string): PairKey {
  parseOptions(argsSchema, { secret, suite, generation, from, to }, 'derivePairKey');
  const okm = hkdfSha256(secret, PAIR_KEY_HKDF_SALT, pairKeyInfo(suite, generation, from, to), KEY_LENGTH + SALT_LENGTH + 4);
  const key = okm.slice(0, KEY_LENGTH);
  const salt = okm.slice(KEY_LENGTH, KEY_LENGTH + SALT_LENGTH);
  const o = KEY_LENGTH + SALT_LENGTH;
  let high24 = ((okm[o]! << 16) | (okm[o + 1]! << 8) | okm[o + 2]!) >>> 0;
  if (high24 === 0) high24 = 1; // keep the SPI out of the reserved 0–255 range
  const spi = ((high24 << 8) | (generation & 0xff)) >>> 0;
  return { suite, generation, from, to, spi, key, salt };
}
