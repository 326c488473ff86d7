/**
 * @internal Base32 text of bytes: RFC 4648 §6 alphabet, lowercase, without
 * padding (`foobar` → `mzxw6ytboi`). Used by join tokens only.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** @internal Characters needed for `byteLength` bytes: ceil(8n / 5). */
export function base32Length(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

/** @internal Encodes `bytes` (any length) as unpadded lowercase base32. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * @internal Decodes unpadded lowercase base32 of exactly `byteLength` bytes.
 * Returns `undefined` unless `text` is the canonical encoding: the right
 * length, only alphabet characters, and zero padding bits in the last
 * character (so every byte string has exactly one text, and every text
 * change is a value change).
 */
export function base32Decode(text: string, byteLength: number): Uint8Array | undefined {
  if (text.length !== base32Length(byteLength)) return undefined;
  const out = new Uint8Array(byteLength);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
