import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { epochSchema, generationSchema, nodeIdSchema, secretSchema, suiteNameSchema } from '../options';
import { KEY_LENGTH, SALT_LENGTH, type SuiteName } from '../suite/aead-cipher';
import { hkdfSha256 } from './hkdf';

/** Keying material of one direction of one node pair under one generation, between two data-plane epochs. */
export interface PairKey {
  /** Suite the key is for (part of the derivation, so keys never cross suites). */
  readonly suite: SuiteName;
  /** Key generation the material comes from. */
  readonly generation: number;
  /** Sending node. */
  readonly from: string;
  /** Receiving node. */
  readonly to: string;
  /** The sending node's data-plane epoch (16 lowercase hex digits). */
  readonly fromEpoch: string;
  /** The receiving node's data-plane epoch (16 lowercase hex digits). */
  readonly toEpoch: string;
  /** SPI: 24 derived bits, then the generation's low 8 bits (never 0–255). */
  readonly spi: number;
  /** 32-byte AEAD key. */
  readonly key: Uint8Array;
  /** 4-byte salt. */
  readonly salt: Uint8Array;
}

/**
 * HKDF salt: a fixed label naming the derivation's version (RFC 5869 §3.1
 * allows a non-secret constant). `v2`: the info carries both nodes' epochs;
 * `v1` (no epochs) is no longer derived.
 */
export const PAIR_KEY_HKDF_SALT = new TextEncoder().encode('weft/crypto/v2 pair-key');

const encoder = new TextEncoder();

const argsSchema = z.object({
  secret: secretSchema,
  suite: suiteNameSchema,
  generation: generationSchema,
  from: nodeIdSchema,
  to: nodeIdSchema,
  fromEpoch: epochSchema,
  toEpoch: epochSchema,
});

/**
 * HKDF info for (suite, generation, from, fromEpoch, to, toEpoch), every
 * integer big-endian:
 * `"esp" 0x00 suite 0x00 generation(u32) len(from)(u16) from len(fromEpoch)(u16) fromEpoch len(to)(u16) to len(toEpoch)(u16) toEpoch`.
 * Strings are UTF-8 (epochs: their 16 ASCII hex digits). Length prefixes
 * keep ("ab","c") and ("a","bc") apart.
 */
function pairKeyInfo(suite: SuiteName, generation: number, from: string, fromEpoch: string, to: string, toEpoch: string): Uint8Array {
  const s = encoder.encode(suite);
  const fields = [from, fromEpoch, to, toEpoch].map((f) => encoder.encode(f));
  const info = new Uint8Array(4 + s.length + 1 + 4 + fields.reduce((n, f) => n + 2 + f.length, 0));
  const view = new DataView(info.buffer);
  info.set(encoder.encode('esp'), 0); // "esp" + 0x00
  let o = 4;
  info.set(s, o);
  o += s.length + 1; // suite + 0x00
  view.setUint32(o, generation);
  o += 4;
  for (const f of fields) {
    view.setUint16(o, f.length);
    info.set(f, o + 2);
    o += 2 + f.length;
  }
  return info;
}

/**
 * Derives the key, salt and SPI for traffic `from` → `to` under `secret`
 * (the cluster secret of `generation`), between the sender's data-plane
 * epoch `fromEpoch` and the receiver's `toEpoch`: HKDF-SHA256 → 40 bytes =
 * key(32) ‖ salt(4) ‖ spi-bits(4). Deterministic: both nodes derive the same
 * values. The sequence number (the IV) restarts only with a new SA; binding
 * the key to the sender's epoch means a restarted sender never reuses a
 * nonce, and to the receiver's epoch that a restarted receiver (whose replay
 * window starts empty) never accepts packets sealed before its restart.
 * @throws InvalidOptionsError whose `field` names the bad argument (`secret` under 32 bytes, an unknown `suite`,
 * a `generation` outside 0 … 2^32 − 1, a node id not 1–255 characters, an epoch not 16 lowercase hex digits).
 */
export function derivePairKey(secret: Uint8Array, suite: SuiteName, generation: number, from: string, to: string, fromEpoch: string, toEpoch: string): PairKey {
  parseOptions(argsSchema, { secret, suite, generation, from, to, fromEpoch, toEpoch }, 'derivePairKey');
  const info = pairKeyInfo(suite, generation, from, fromEpoch, to, toEpoch);
  const okm = hkdfSha256(secret, PAIR_KEY_HKDF_SALT, info, KEY_LENGTH + SALT_LENGTH + 4);
  const key = okm.slice(0, KEY_LENGTH);
  const salt = okm.slice(KEY_LENGTH, KEY_LENGTH + SALT_LENGTH);
  const o = KEY_LENGTH + SALT_LENGTH;
  let high24 = ((okm[o]! << 16) | (okm[o + 1]! << 8) | okm[o + 2]!) >>> 0;
  if (high24 === 0) high24 = 1; // keep the SPI out of the reserved 0–255 range
  const spi = ((high24 << 8) | (generation & 0xff)) >>> 0;
  okm.fill(0);
  return { suite, generation, from, to, fromEpoch, toEpoch, spi, key, salt };
}
