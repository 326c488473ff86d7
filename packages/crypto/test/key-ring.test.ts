import { isWeftError } from '@weft/interface';
import { AuthenticationError, CryptoError, KeyRing, KeyRingDisposedError, SecurityAssociation, UnknownSpiError, type RotationEvent } from '../src';
import { EPOCH_A, EPOCH_B, EPOCH_C } from './support/epochs';
import { expectInvalidOption } from './support/expect-invalid';
import { toHex } from './support/hex';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const E = EPOCH_A;

function sa(ring: KeyRing, generation: number, from: string, to: string) {
  const k = ring.pairKey(generation, from, to, E, E);
  return new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt });
}

describe('KeyRing', () => {
  it('derives the same pair keys on every node, different per direction, pair, generation and suite', () => {
    const n1 = new KeyRing({ secret: secret(1) });
    const n2 = new KeyRing({ secret: secret(1) });
    const ab = n1.pairKey(0, 'a', 'b', EPOCH_A, EPOCH_B);
    expect(toHex(n2.pairKey(0, 'a', 'b', EPOCH_A, EPOCH_B).key)).toBe(toHex(ab.key));
    expect(n2.pairKey(0, 'a', 'b', EPOCH_A, EPOCH_B).spi).toBe(ab.spi);
    expect(ab).toMatchObject({ generation: 0, from: 'a', to: 'b', fromEpoch: EPOCH_A, toEpoch: EPOCH_B, suite: 'aes-256-gcm' });
    const others = [
      n1.pairKey(0, 'b', 'a', EPOCH_B, EPOCH_A), // the other direction
      n1.pairKey(0, 'a', 'c', EPOCH_A, EPOCH_B),
      n1.pairKey(0, 'a', 'a', EPOCH_A, EPOCH_B),
      n1.pairKey(0, 'a', 'b', EPOCH_C, EPOCH_B), // the sender restarted
      n1.pairKey(0, 'a', 'b', EPOCH_A, EPOCH_C), // the receiver restarted
      n1.pairKey(0, 'a', 'b', EPOCH_B, EPOCH_A), // epochs swapped
    ];
    for (const o of others) expect(toHex(o.key)).not.toBe(toHex(ab.key));
    expect(new Set(others.map((o) => o.spi)).size).toBe(others.length);
    // Length-prefixed ids: ("ab","c") and ("a","bc") differ.
    expect(toHex(n1.pairKey(0, 'ab', 'c', E, E).key)).not.toBe(toHex(n1.pairKey(0, 'a', 'bc', E, E).key));
    const chacha = new KeyRing({ secret: secret(1), suite: 'chacha20-poly1305' });
    expect(toHex(chacha.pairKey(0, 'a', 'b', EPOCH_A, EPOCH_B).key)).not.toBe(toHex(ab.key));
    expect(ab.spi).toBeGreaterThanOrEqual(256);
    expect(ab.spi & 0xff).toBe(0); // generation 0 in the low byte
  });

  it('a key for one pair opens nothing sent by another pair', () => {
    const ring = new KeyRing({ secret: secret(2) });
    const packet = sa(ring, 0, 'a', 'b').seal(new Uint8Array([1, 2, 3]));
    expect(sa(ring, 0, 'a', 'b').open(packet)).toEqual(Buffer.from([1, 2, 3]));
    expect(() => sa(ring, 0, 'b', 'a').open(packet)).toThrow(UnknownSpiError);
    // Even with the SPI forced equal, another pair's key fails authentication.
    const ac = ring.pairKey(0, 'a', 'c', E, E);
    const forced = new SecurityAssociation({ spi: ring.pairKey(0, 'a', 'b', E, E).spi, key: ac.key, salt: ac.salt });
    expect(() => forced.open(packet)).toThrow(AuthenticationError);
    // Likewise a key of another epoch of the same pair (a restarted sender) opens nothing of the old one.
    const restarted = ring.pairKey(0, 'a', 'b', EPOCH_C, E);
    expect(() => new SecurityAssociation({ spi: ring.pairKey(0, 'a', 'b', E, E).spi, key: restarted.key, salt: restarted.salt }).open(packet)).toThrow(AuthenticationError);
  });

  it('runs the three phases in order, with one event each', () => {
    const ring = new KeyRing({ secret: secret(3), generation: 5 });
    const events: RotationEvent[] = [];
    const off = ring.on((e) => events.push(e));
    ring.install(6, secret(4));
    expect(ring.receiveGenerations).toEqual([5, 6]);
    expect(ring.sendGeneration).toBe(5);
    ring.activate(6);
    expect(ring.sendGeneration).toBe(6);
    ring.retire(5);
    expect(ring.receiveGenerations).toEqual([6]);
    expectInvalidOption(() => ring.pairKey(5, 'a', 'b', E, E), 'generation', /^KeyRing\.pairKey: option "generation" is not installed \(got 5\)$/);
    expect(events).toEqual([
      { phase: 'install', generation: 6, sendGeneration: 5 },
      { phase: 'activate', generation: 6, sendGeneration: 6 },
      { phase: 'retire', generation: 5, sendGeneration: 6 },
    ]);
    off();
    ring.install(7, secret(5));
    expect(events).toHaveLength(3);
    // SPIs of consecutive generations of one pair never collide.
    expect(ring.pairKey(6, 'a', 'b', E, E).spi & 0xff).toBe(6);
    expect(ring.pairKey(7, 'a', 'b', E, E).spi & 0xff).toBe(7);
  });

  it('rejects out-of-order phases and bad inputs with InvalidOptionsError naming the argument', () => {
    const ring = new KeyRing({ secret: secret(3), generation: 1 });
    expectInvalidOption(() => ring.install(1, secret(9)), 'generation', /^KeyRing\.install: option "generation" must be newer than installed generation 1 \(got 1\)$/);
    expectInvalidOption(() => ring.install(2, new Uint8Array(16)), 'secret', /KeyRing\.install: option "secret" must be a Uint8Array of at least 32 bytes/);
    expectInvalidOption(() => ring.install(-2, secret(9)), 'generation', /KeyRing\.install: option "generation"/);
    expectInvalidOption(() => ring.activate(2), 'generation', /KeyRing\.activate: option "generation" is not installed \(got 2\)/);
    expectInvalidOption(() => ring.activate('2' as never), 'generation', /KeyRing\.activate: option "generation" .*\(got "2"\)/);
    expectInvalidOption(() => ring.retire(1), 'generation', /KeyRing\.retire: option "generation" must be older than the send generation 1 \(got 1\)/);
    expectInvalidOption(() => ring.retire(9), 'generation', /KeyRing\.retire: option "generation" is not installed \(got 9\)/);
    ring.install(2, secret(9));
    expectInvalidOption(() => ring.install(257, secret(9)), 'generation', /shares its SPI byte with live generation 1/);
    expectInvalidOption(() => ring.activate(1), 'generation', /must be newer than the send generation 1/);
    expectInvalidOption(() => ring.pairKey(1, '', 'b', E, E), 'from', /KeyRing\.pairKey: option "from"/);
    expectInvalidOption(() => ring.pairKey(1, 'a', 'x'.repeat(256), E, E), 'to');
    expectInvalidOption(() => ring.pairKey(1, 'a', 'b', 'not-an-epoch', E), 'fromEpoch', /^KeyRing\.pairKey: option "fromEpoch" must be 16 lowercase hex digits \(got "not-an-epoch"\)$/);
    expectInvalidOption(() => ring.pairKey(1, 'a', 'b', E, E.toUpperCase()), 'toEpoch');
    expectInvalidOption(() => (ring.pairKey as (...args: unknown[]) => unknown)(1, 'a', 'b'), 'fromEpoch');
    expectInvalidOption(() => ring.on(42 as never), 'listener');
    // Nothing changed state on the way.
    expect(ring.receiveGenerations).toEqual([1, 2]);
    expect(ring.sendGeneration).toBe(1);
    expectInvalidOption(() => new KeyRing({ secret: secret(1), generation: -1 }), 'generation', /^KeyRing: option "generation"/);
    expectInvalidOption(() => new KeyRing({ secret: secret(1), suite: 'rot13' as never }), 'suite', /^KeyRing: option "suite"/);
    expectInvalidOption(() => new KeyRing({ secret: new Uint8Array(8) }), 'secret', /^KeyRing: option "secret" .*\(got a Uint8Array of 8 bytes\)$/);
    expectInvalidOption(() => new KeyRing(undefined as never), 'secret');
    expectInvalidOption(() => new KeyRing('secret' as never), '(options)');
  });

  it('dispose() zero-fills its secrets and refuses every further use with KeyRingDisposedError', () => {
    const given = secret(7);
    const ring = new KeyRing({ secret: given, generation: 1 });
    ring.install(2, secret(8));
    const before = ring.pairKey(2, 'a', 'b', E, E);
    // The ring holds copies: reach them through the map the ring keeps (white-box, to prove they are wiped).
    const held = [...(ring as unknown as { secrets: Map<number, Uint8Array> }).secrets.values()];
    expect(held.map((s) => s.some((b) => b !== 0))).toEqual([true, true]);
    const events: RotationEvent[] = [];
    ring.on((e) => events.push(e));
    expect(ring.disposed).toBe(false);
    ring.dispose();
    ring.dispose(); // idempotent
    expect(ring.disposed).toBe(true);
    expect(held.map((s) => s.every((b) => b === 0))).toEqual([true, true]);
    expect(given).toEqual(secret(7)); // the caller's buffer is the caller's
    expect(before.key.some((b) => b !== 0)).toBe(true); // derived keys belong to whoever holds them
    const calls: [string, () => unknown][] = [
      ['KeyRing.pairKey', () => ring.pairKey(1, 'a', 'b', E, E)],
      ['KeyRing.install', () => ring.install(3, secret(9))],
      ['KeyRing.activate', () => ring.activate(2)],
      ['KeyRing.retire', () => ring.retire(1)],
      ['KeyRing.on', () => ring.on(() => {})],
      ['KeyRing.sendGeneration', () => ring.sendGeneration],
      ['KeyRing.receiveGenerations', () => ring.receiveGenerations],
    ];
    for (const [operation, call] of calls) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyRingDisposedError);
      expect(err).toBeInstanceOf(CryptoError);
      expect(err).toMatchObject({ name: 'KeyRingDisposedError', code: 'ERR_KEY_RING_DISPOSED', operation, message: `${operation}: the key ring is disposed` });
      expect(isWeftError(err, 'ERR_KEY_RING_DISPOSED')).toBe(true);
    }
    expect(events).toEqual([]); // disposing announces nothing
  });
});
