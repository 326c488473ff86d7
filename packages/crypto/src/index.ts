/**
 * @packageDocumentation
 * @weft/crypto — IPsec-style (ESP-like) encryption for overlay underlay
 * traffic: security associations with ESN and anti-replay, three AEAD suites,
 * per-pair keys with lossless three-phase rotation, node identities, and an
 * `EncryptedUnderlay` that wraps any underlay.
 */
export const VERSION = '0.1.0';
export * from './errors';
export { SUITE_NAMES, KEY_LENGTH, SALT_LENGTH, IV_LENGTH, TAG_LENGTH, createAeadCipher } from './suite';
export type { SuiteName, AeadCipher } from './suite';
export * from './replay/replay-window';
export { HEADER_LENGTH, PACKET_OVERHEAD, AAD_LENGTH, encodingLength, readSpi, readSequenceLow } from './sa/packet';
export * from './sa/security-association';
export { derivePairKey, PAIR_KEY_HKDF_SALT } from './keys/derive-pair-key';
export type { PairKey } from './keys/derive-pair-key';
export { hkdfSha256 } from './keys/hkdf';
export * from './keys/key-ring';
export * from './identity/identity';
export type { Underlay, UnderlayAddress } from './underlay/underlay';
export * from './underlay/encrypted-underlay';
