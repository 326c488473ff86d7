import { TAG_LENGTH, type AeadCipher } from '../suite';
import { PacketSlab } from './packet-slab';

const slab = new PacketSlab();

/**
 * Wire format of one sealed packet (all integers big-endian):
 *
 *     0      4        8            16                  16+n     32+n
 *     | SPI  | seq lo | IV (8)     | ciphertext (n)    | tag(16) |
 *
 * (xsalsa20-poly1305 carries secretbox's tag(16) ‖ ciphertext(n) after the IV.)
 * Associated data, never sent: SPI ‖ seq hi ‖ seq lo (12 bytes, RFC 4106 §5 with ESN).
 */
export const HEADER_LENGTH = 16;
/** Bytes a sealed packet adds to its plaintext. */
export const PACKET_OVERHEAD = HEADER_LENGTH + TAG_LENGTH;
/** Associated-data length, bytes. */
export const AAD_LENGTH = 12;

/** Sealed packet length for a plaintext of `plaintextLength` bytes. */
export function encodingLength(plaintextLength: number): number {
  return PACKET_OVERHEAD + plaintextLength;
}

/** The SPI of a packet of at least 4 bytes (unsigned). */
export function readSpi(packet: Uint8Array, offset = 0): number {
  return ((packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!) >>> 0;
}

/** The low 32 bits of the sequence number of a packet of at least 8 bytes. */
export function readSequenceLow(packet: Uint8Array, offset = 0): number {
  return readSpi(packet, offset + 4);
}

function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}

/** Writes the 12-byte associated data SPI ‖ seq hi ‖ seq lo into `aad`. */
function writeAad(aad: Uint8Array, spi: number, seqHigh: number, seqLow: number): void {
  writeU32(aad, 0, spi);
  writeU32(aad, 4, seqHigh);
  writeU32(aad, 8, seqLow);
}

/**
 * Seals `plaintext` into a new packet owned by the caller: a view into a shared
 * slab (see `PacketSlab`), not a buffer of its own. `iv` is the 8-byte
 * explicit IV to carry; the security association passes the full sequence
 * number, tests pass published vectors' IVs. `aad` is a 12-byte scratch buffer.
 */
export function sealPacket(
  cipher: AeadCipher,
  spi: number,
  seqHigh: number,
  seqLow: number,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(AAD_LENGTH),
): Uint8Array {
  const packet = slab.alloc(PACKET_OVERHEAD + plaintext.length);
  writeU32(packet, 0, spi);
  writeU32(packet, 4, seqLow);
  packet.set(iv, 8);
  writeAad(aad, spi, seqHigh, seqLow);
  cipher.sealInto(iv, aad, plaintext, packet, HEADER_LENGTH);
  return packet;
}

/**
 * Verifies and decrypts `packet` (at least `PACKET_OVERHEAD` bytes, checked by
 * the caller) given the inferred high 32 sequence bits. Returns the plaintext
 * (new buffer) or `null` when the tag does not verify.
 */
export function openPacket(cipher: AeadCipher, packet: Uint8Array, seqHigh: number, aad: Uint8Array = new Uint8Array(AAD_LENGTH)): Uint8Array | null {
  writeAad(aad, readSpi(packet), seqHigh, readSequenceLow(packet));
  return cipher.open(packet, 8, aad, HEADER_LENGTH);
}
