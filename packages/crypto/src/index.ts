/**
 * @packageDocumentation
 * @weft/crypto — IPsec-style (ESP-like) encryption for overlay underlay
 * traffic: security associations with ESN and anti-replay, three AEAD suites,
 * per-pair keys bound to both nodes' data-plane epochs with lossless
 * three-phase rotation, node identities, and an
 * `EncryptedUnderlay` that wraps any `Underlay` from `@weft/interface`.
 */
export * from './errors';
// The shared errors this package throws and the contract it implements, defined once in @weft/interface.
export { InvalidOptionsError, MalformedPacketError, UnderlayClosedError } from '@weft/interface';
export type { SocketAddress, Underlay } from '@weft/interface';
export { SUITE_NAMES, KEY_LENGTH, SALT_LENGTH, IV_LENGTH, TAG_LENGTH, createAeadCipher } from './suite';
export type { SuiteName, AeadCipher } from './suite';
export {
  ReplayWindow,
  REPLAY_OK,
  REPLAY_DUPLICATE,
  REPLAY_OLD,
  DEFAULT_REPLAY_WINDOW,
  MIN_REPLAY_WINDOW,
  MAX_REPLAY_WINDOW,
  type ReplayCheck,
} from './replay/replay-window';
export { HEADER_LENGTH, PACKET_OVERHEAD, AAD_LENGTH, encodingLength, readSpi, readSequenceLow } from './sa/packet';
export * from './sa/security-association';
export { derivePairKey, PAIR_KEY_HKDF_SALT } from './keys/derive-pair-key';
export type { PairKey } from './keys/derive-pair-key';
export { hkdfSha256 } from './keys/hkdf';
export * from './keys/key-ring';
export { planKeySteps, type KeyState, type KeyStep } from './keys/key-plan';
export { NetworkKeys, type NetworkKeySet } from './keys/network-keys';
export * from './identity/identity';
export { EncryptedUnderlay } from './underlay/encrypted-underlay';
export { SequenceMarks } from './underlay/sequence-marks';
export type { EncryptedUnderlayOptions, EncryptedUnderlayCounters } from './underlay/encrypted-underlay-options';
