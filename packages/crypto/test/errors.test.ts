import * as iface from '@weft/interface';
import { isWeftError, WeftError } from '@weft/interface';
import * as weftCrypto from '../src';
import {
  AuthenticationError,
  createAeadCipher,
  CryptoError,
  derivePairKey,
  EncryptedUnderlay,
  hkdfSha256,
  Identity,
  KeyAgreementError,
  KeyPlanError,
  KeyRing,
  KeyRingDisposedError,
  NetworkKeys,
  ReplayError,
  ReplayWindow,
  SecurityAssociation,
  SequenceExhaustedError,
  UnknownSpiError,
} from '../src';
import { expectInvalidOption } from './support/expect-invalid';
import { EPOCH_A, EPOCH_B } from './support/epochs';
import { memoryLink } from './support/memory-link';

describe('errors', () => {
  const samples: [CryptoError, string, string][] = [
    [new CryptoError('x'), 'CryptoError', 'ERR_CRYPTO'],
    [new AuthenticationError(0x1234_5600, 9), 'AuthenticationError', 'ERR_AUTHENTICATION'],
    [new ReplayError(0x1234_5600, 9, 'duplicate'), 'ReplayError', 'ERR_REPLAY'],
    [new UnknownSpiError(0x1234_5600), 'UnknownSpiError', 'ERR_UNKNOWN_SPI'],
    [new SequenceExhaustedError(0x1234_5600, 3), 'SequenceExhaustedError', 'ERR_SEQUENCE_EXHAUSTED'],
    [new KeyAgreementError('low-order point'), 'KeyAgreementError', 'ERR_KEY_AGREEMENT'],
    [new KeyRingDisposedError('KeyRing.pairKey'), 'KeyRingDisposedError', 'ERR_KEY_RING_DISPOSED'],
    [new KeyPlanError('cannot go back from send generation 2 to 1'), 'KeyPlanError', 'ERR_KEY_PLAN'],
  ];

  it.each(samples.map(([err, name, code]) => [name, code, err] as const))('%s (%s) extends CryptoError and WeftError', (name, code, err) => {
    expect(err).toBeInstanceOf(CryptoError);
    expect(err).toBeInstanceOf(WeftError);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(isWeftError(err, name)).toBe(true);
    expect(isWeftError(err, code)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('gives every class its own code', () => {
    expect(new Set(samples.map(([, , code]) => code)).size).toBe(samples.length);
  });

  it('re-exports the shared errors and contracts of @weft/interface rather than copies', () => {
    expect(weftCrypto.InvalidOptionsError).toBe(iface.InvalidOptionsError);
    expect(weftCrypto.MalformedPacketError).toBe(iface.MalformedPacketError);
    expect(weftCrypto.UnderlayClosedError).toBe(iface.UnderlayClosedError);
    for (const gone of ['VERSION', 'UnderlayAddress', 'validateOptions', 'replayWindowSchema']) expect(weftCrypto).not.toHaveProperty(gone);
  });
});

describe('bad options and arguments to every public constructor and factory', () => {
  const key = new Uint8Array(32);
  const salt = new Uint8Array(4);
  // One case per export that builds something from caller input; each must throw the shared
  // InvalidOptionsError naming the field, on one line.
  const cases: Record<string, [() => unknown, string][]> = {
    SecurityAssociation: [
      [() => new SecurityAssociation({ spi: 7, key, salt }), 'spi'],
      [() => new SecurityAssociation(null as never), '(options)'],
    ],
    KeyRing: [[() => new KeyRing({ secret: key, generation: 1.5 }), 'generation']],
    ReplayWindow: [[() => new ReplayWindow(33), 'size']],
    EncryptedUnderlay: [[() => new EncryptedUnderlay({ underlay: memoryLink().a, keyRing: new KeyRing({ secret: key }), localId: 'a', localEpoch: EPOCH_A, maxSequence: 0 }), 'maxSequence']],
    Identity: [
      [() => Identity.fromSeed(new Uint8Array(31)), 'seed'],
      [() => Identity.fromKeys({ signingSeed: key, agreementSecretKey: 'k' as never }), 'agreementSecretKey'],
      [() => Identity.generate(() => key.subarray(1)), 'random'],
    ],
    createAeadCipher: [
      [() => createAeadCipher('rot13' as never, key, salt), 'suite'],
      [() => createAeadCipher('aes-256-gcm', key.subarray(1), salt), 'key'],
      [() => createAeadCipher('xsalsa20-poly1305', key, new Uint8Array(12)), 'salt'],
    ],
    derivePairKey: [
      [() => derivePairKey(new Uint8Array(16), 'aes-256-gcm', 0, 'a', 'b', EPOCH_A, EPOCH_B), 'secret'],
      [() => derivePairKey(key, 'aes-256-gcm', -1, 'a', 'b', EPOCH_A, EPOCH_B), 'generation'],
      [() => derivePairKey(key, 'aes-256-gcm', 0, 'a', '', EPOCH_A, EPOCH_B), 'to'],
      [() => derivePairKey(key, 'aes-256-gcm', 0, 'a', 'b', 'A1A1A1A1A1A1A1A1', EPOCH_B), 'fromEpoch'],
      [() => derivePairKey(key, 'aes-256-gcm', 0, 'a', 'b', EPOCH_A, EPOCH_B.slice(1)), 'toEpoch'],
      [() => (derivePairKey as (...args: unknown[]) => unknown)(key, 'aes-256-gcm', 0, 'a', 'b'), 'fromEpoch'],
    ],
    NetworkKeys: [
      [() => NetworkKeys.create({ suite: 'aes-256-gcm', keys: [], sendGeneration: 1 }), 'keys'],
      [() => NetworkKeys.create({ suite: 'aes-256-gcm', keys: [{ generation: 1, secret: key }], sendGeneration: 2 }), 'sendGeneration'],
      [() => NetworkKeys.create({ suite: 'rot13' as never, keys: [{ generation: 1, secret: key }], sendGeneration: 1 }), 'suite'],
      [() => NetworkKeys.create(null as never), '(options)'],
    ],
    hkdfSha256: [
      [() => hkdfSha256(key, salt, salt, 0), 'length'],
      [() => hkdfSha256(key, salt, salt, 255 * 32 + 1), 'length'],
      [() => hkdfSha256('ikm' as never, salt, salt, 32), 'ikm'],
    ],
  };
  // Runtime exports that take no options: error classes (and shared re-exports) and the per-packet readers,
  // which read caller bytes without validating them (documented as such).
  const noOptions = new Set([
    'CryptoError',
    'AuthenticationError',
    'ReplayError',
    'UnknownSpiError',
    'SequenceExhaustedError',
    'KeyAgreementError',
    'KeyRingDisposedError',
    'KeyPlanError',
    'InvalidOptionsError',
    'MalformedPacketError',
    'UnderlayClosedError',
    'encodingLength',
    'readSpi',
    'readSequenceLow',
    'SequenceMarks', // its constructor takes no arguments
    // pure planning over typed states; an impossible transition is a KeyPlanError (test/network-keys.test.ts)
    'planKeySteps',
  ]);

  it('has a case for every function or class the package exports', () => {
    const functions = Object.entries(weftCrypto)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(functions.filter((k) => !(k in cases) && !noOptions.has(k))).toEqual([]);
  });

  it.each(Object.entries(cases).flatMap(([name, list]) => list.map(([fn, field]) => [name, field, fn] as const)))(
    '%s rejects a bad %s',
    (_name, field, fn) => {
      expectInvalidOption(fn, field);
    },
  );
});
