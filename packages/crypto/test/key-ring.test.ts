import { AuthenticationError, KeyRing, SecurityAssociation, UnknownSpiError, type RotationEvent } from '../src';
import { expectInvalidOption } from './support/expect-invalid';
import { toHex } from './support/hex';

const secret = (fill: number) => new Uint8Array(32).fill(fill);

function sa(ring: KeyRing, generation: number, from: string, to: string) {
  const k = ring.pairKey(generation, from, to);
  return new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt });
}

describe('KeyRing', () => {
  it('derives the same pair keys on every node, different per direction, pair, generation and suite', () => {
    const n1 = new KeyRing({ secret: secret(1) });
    const n2 = new KeyRing({ secret: secret(1) });
    const ab = n1.pairKey(0, 'a', 'b');
    expect(toHex(n2.pairKey(0, 'a', 'b').key)).toBe(toHex(ab.key));
    expect(n2.pairKey(0, 'a', 'b').spi).toBe(ab.spi);
    const others = [n1.pairKey(0, 'b', 'a'), n1.pairKey(0, 'a', 'c'), n1.pairKey(0, 'a', 'a')];
    for (const o of others) expect(toHex(o.key)).not.toBe(toHex(ab.key));
    // Length-prefixed ids: ("ab","c") and ("a","bc") differ.
    expect(toHex(n1.pairKey(0, 'ab', 'c').key)).not.toBe(toHex(n1.pairKey(0, 'a', 'bc').key));
    const chacha = new KeyRing({ secret: secret(1), suite: 'chacha20-poly1305' });
    expect(toHex(chacha.pairKey(0, 'a', 'b').key)).not.toBe(toHex(ab.key));
    expect(ab.spi).toBeGreaterThanOrEqual(256);
    expect(ab.spi & 0xff).toBe(0); // generation 0 in the low byte
  });

  it('a key for one pair opens nothing sent by another pair', () => {
    const ring = new KeyRing({ secret: secret(2) });
    const packet = sa(ring, 0, 'a', 'b').seal(new Uint8Array([1, 2, 3]));
    expect(sa(ring, 0, 'a', 'b').open(packet)).toEqual(Buffer.from([1, 2, 3]));
    expect(() => sa(ring, 0, 'b', 'a').open(packet)).toThrow(UnknownSpiError);
    // Even with the SPI forced equal, another pair's key fails authentication.
    const ac = ring.pairKey(0, 'a', 'c');
    const forced = new SecurityAssociation({ spi: ring.pairKey(0, 'a', 'b').spi, key: ac.key, salt: ac.salt });
    expect(() => forced.open(packet)).toThrow(AuthenticationError);
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
    expectInvalidOption(() => ring.pairKey(5, 'a', 'b'), 'generation', /^KeyRing\.pairKey: option "generation" is not installed \(got 5\)$/);
    expect(events).toEqual([
      { phase: 'install', generation: 6, sendGeneration: 5 },
      { phase: 'activate', generation: 6, sendGeneration: 6 },
      { phase: 'retire', generation: 5, sendGeneration: 6 },
    ]);
    off();
    ring.install(7, secret(5));
    expect(events).toHaveLength(3);
    // SPIs of consecutive generations of one pair never collide.
    expect(ring.pairKey(6, 'a', 'b').spi & 0xff).toBe(6);
    expect(ring.pairKey(7, 'a', 'b').spi & 0xff).toBe(7);
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
    expectInvalidOption(() => ring.pairKey(1, '', 'b'), 'from', /KeyRing\.pairKey: option "from"/);
    expectInvalidOption(() => ring.pairKey(1, 'a', 'x'.repeat(256)), 'to');
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
});
