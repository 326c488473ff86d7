import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  AuthenticationError,
  CryptoError,
  MalformedPacketError,
  PACKET_OVERHEAD,
  ReplayError,
  SecurityAssociation,
  SequenceExhaustedError,
  SUITE_NAMES,
  UnknownSpiError,
  type SuiteName,
} from '../src';
import { expectInvalidOption } from './support/expect-invalid';

const TWO_32 = 2 ** 32;
const TYPED = [AuthenticationError, ReplayError, UnknownSpiError, MalformedPacketError];

function pair(suite: SuiteName, extra: { replayWindow?: number; maxSequence?: number; nextSequence?: number; highestReceived?: number } = {}) {
  const key = randomBytes(32);
  const salt = randomBytes(4);
  const spi = 0x1234_5600;
  const tx = new SecurityAssociation({ spi, suite, key, salt, ...extra });
  const rx = new SecurityAssociation({ spi, suite, key, salt, replayWindow: extra.replayWindow, highestReceived: extra.highestReceived });
  return { tx, rx, key, salt, spi };
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe.each(SUITE_NAMES)('SecurityAssociation %s', (suite) => {
  it('round-trips random payloads (fast-check)', () => {
    const { tx, rx } = pair(suite);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (payload) => {
        const packet = tx.seal(payload);
        expect(packet.length).toBe(payload.length + PACKET_OVERHEAD);
        expect(Buffer.from(rx.open(packet)).equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('lays out SPI | seq low | IV = 64-bit seq | sealed', () => {
    const { tx, spi } = pair(suite, { nextSequence: 7 * TWO_32 + 9 });
    const packet = tx.seal(new Uint8Array(5));
    const view = Buffer.from(packet);
    expect(view.readUInt32BE(0)).toBe(spi);
    expect(view.readUInt32BE(4)).toBe(9);
    expect(view.readUInt32BE(8)).toBe(7);
    expect(view.readUInt32BE(12)).toBe(9);
    expect(tx.nextSequence).toBe(7 * TWO_32 + 10);
  });

  it('rejects every single-bit flip of a sealed packet with a typed error', () => {
    const { tx, rx } = pair(suite);
    rx.open(tx.seal(new Uint8Array([1]))); // window top = 1
    const packet = tx.seal(Uint8Array.from({ length: 48 }, (_, i) => i));
    let flips = 0;
    for (let bit = 0; bit < packet.length * 8; bit++) {
      const bad = Uint8Array.from(packet);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const err = errorOf(() => rx.open(bad));
      expect(err).toBeInstanceOf(CryptoError);
      expect(TYPED.some((T) => err instanceof T)).toBe(true);
      flips += 1;
    }
    expect(flips).toBe((48 + PACKET_OVERHEAD) * 8);
    // None of the failures moved the window: the genuine packet still opens.
    expect(rx.open(packet)).toEqual(Buffer.from(Uint8Array.from({ length: 48 }, (_, i) => i)));
  });

  it('opens a packet that is a view at an offset inside a larger node Buffer, reading only the view', () => {
    const { tx, rx } = pair(suite);
    const payload = Uint8Array.from({ length: 100 }, (_, i) => 255 - i);
    const sealed = tx.seal(payload);
    const tampered = tx.seal(payload);
    // Bytes around each packet that a reader past its ends would pick up.
    const host = Buffer.alloc(2 * sealed.length + 64, 0x5a);
    host.set(sealed, 17);
    host.set(tampered, 17 + sealed.length + 13);
    const first = host.subarray(17, 17 + sealed.length);
    const second = host.subarray(17 + sealed.length + 13, 17 + 2 * sealed.length + 13);
    second[second.length - 1]! ^= 1; // last tag byte
    expect(Buffer.from(rx.open(first)).equals(Buffer.from(payload))).toBe(true);
    expect(errorOf(() => rx.open(second))).toBeInstanceOf(AuthenticationError);
    expect(host.subarray(0, 17).every((b) => b === 0x5a)).toBe(true);
  });

  it('throws only typed errors for arbitrary bytes and arbitrary mutations (fast-check)', () => {
    const { tx, rx, spi } = pair(suite);
    const valid = tx.seal(new Uint8Array(64));
    const check = (bytes: Uint8Array) => {
      const err = errorOf(() => rx.open(bytes));
      if (err !== undefined) expect(TYPED.some((T) => err instanceof T)).toBe(true);
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, keepSpi) => {
        if (keepSpi && bytes.length >= 4) Buffer.from(bytes.buffer, bytes.byteOffset).writeUInt32BE(spi, 0);
        check(bytes);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
        const bad = Uint8Array.from(valid);
        for (const [at, x] of edits) bad[at]! ^= x;
        check(bad);
        check(bad.subarray(0, edits[0]![0]));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a replayed packet, accepts reordered packets inside the window exactly once', () => {
    const { tx, rx } = pair(suite, { replayWindow: 64 });
    const packets = Array.from({ length: 40 }, (_, i) => tx.seal(new Uint8Array([i])));
    const order = [...packets.keys()].reverse(); // fully reversed: every one but the first is late
    for (const i of order) expect(rx.open(packets[i]!)[0]).toBe(i);
    for (const i of order) {
      const err = errorOf(() => rx.open(packets[i]!));
      expect(err).toBeInstanceOf(ReplayError);
      expect((err as ReplayError).reason).toBe('duplicate');
    }
  });

  it('rejects a genuine packet older than the window as a replay, and keeps the window', () => {
    const { tx, rx } = pair(suite, { replayWindow: 32 });
    const old = tx.seal(new Uint8Array([0xaa]));
    for (let i = 0; i < 40; i++) rx.open(tx.seal(new Uint8Array([i])));
    const err = errorOf(() => rx.open(old));
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).reason).toBe('old');
    expect((err as ReplayError).sequence).toBe(1);
    expect(rx.highestReceived).toBe(41);
  });

  it('rejects a wrong SPI, and a right SPI with another key', () => {
    const { tx } = pair(suite);
    const packet = tx.seal(new Uint8Array(10));
    const other = new SecurityAssociation({ spi: 0x9999_0000, suite, key: randomBytes(32), salt: randomBytes(4) });
    const err = errorOf(() => other.open(packet));
    expect(err).toBeInstanceOf(UnknownSpiError);
    expect((err as UnknownSpiError).spi).toBe(0x1234_5600);
    expect(String((err as Error).message)).toContain('0x12345600');
    const sameSpi = new SecurityAssociation({ spi: 0x1234_5600, suite, key: randomBytes(32), salt: randomBytes(4) });
    expect(errorOf(() => sameSpi.open(packet))).toBeInstanceOf(AuthenticationError);
  });

  it('rejects short input as malformed', () => {
    const { rx } = pair(suite);
    for (const len of [0, 1, 16, PACKET_OVERHEAD - 1]) {
      const err = errorOf(() => rx.open(new Uint8Array(len)));
      expect(err).toBeInstanceOf(MalformedPacketError);
      expect((err as MalformedPacketError).layer).toBe('esp');
      expect((err as MalformedPacketError).code).toBe('ERR_MALFORMED_PACKET');
      expect((err as Error).message).toBe(`esp: packet of ${len} bytes is shorter than the 32-byte minimum`);
    }
  });

  it('carries the 64-bit sequence across 2^32 with only 32 bits on the wire', () => {
    const start = TWO_32 - 5;
    // Both ends resume a persisted SA just below the boundary.
    const { tx, rx, key, salt, spi } = pair(suite, { nextSequence: start, highestReceived: start - 1 });
    for (let i = 0; i < 12; i++) {
      const p = tx.seal(new Uint8Array([i]));
      expect(rx.open(p)[0]).toBe(i);
    }
    expect(rx.highestReceived).toBe(start + 11);
    // A receiver still in the first subspace infers high bits 0 for the same low
    // 32 bits; the real high bits are authenticated, so the packet fails.
    const fresh = new SecurityAssociation({ spi, suite, key, salt });
    const err = errorOf(() => fresh.open(tx.seal(new Uint8Array(1))));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).sequence).toBe(start + 12 - TWO_32);
  });

  it('accepts packets reordered across the 2^32 boundary exactly once (Appendix A case B)', () => {
    const start = TWO_32 - 4;
    const { tx, rx } = pair(suite, { nextSequence: start, highestReceived: start - 1, replayWindow: 64 });
    const packets = Array.from({ length: 8 }, (_, i) => tx.seal(new Uint8Array([i]))); // 2^32−4 … 2^32+3
    for (const i of [7, 6, 5, 4, 3, 2, 1, 0]) expect(rx.open(packets[i]!)[0]).toBe(i);
    expect(rx.highestReceived).toBe(TWO_32 + 3);
    for (const i of [0, 3, 4, 7]) expect(errorOf(() => rx.open(packets[i]!))).toBeInstanceOf(ReplayError);
  });

  it('a window resumed at highestReceived refuses every sequence up to it, even inside the window', () => {
    const { tx, key, salt, spi } = pair(suite, { replayWindow: 64 });
    const packets = Array.from({ length: 12 }, (_, i) => tx.seal(new Uint8Array([i]))); // sequences 1 … 12
    const resumed = new SecurityAssociation({ spi, suite, key, salt, replayWindow: 64, highestReceived: 10 });
    expect(resumed.highestReceived).toBe(10);
    for (const i of [0, 4, 9]) expect(errorOf(() => resumed.open(packets[i]!))).toMatchObject({ name: 'ReplayError', reason: 'duplicate' });
    expect(resumed.open(packets[11]!)[0]).toBe(11); // 12: new
    expect(resumed.open(packets[10]!)[0]).toBe(10); // 11: new, reordered
    expect(errorOf(() => resumed.open(packets[10]!))).toBeInstanceOf(ReplayError);
  });

  it('an SA resumed past maxSequence is exhausted from the start, even at 2^53', () => {
    const { tx } = pair(suite, { maxSequence: 5, nextSequence: 6 });
    expect(tx.remaining).toBe(0);
    expect(errorOf(() => tx.seal(new Uint8Array(1)))).toBeInstanceOf(SequenceExhaustedError);
    const top = pair(suite, { nextSequence: Number.MAX_SAFE_INTEGER + 1 }).tx;
    expect(errorOf(() => top.seal(new Uint8Array(1)))).toBeInstanceOf(SequenceExhaustedError);
  });

  it('refuses to seal past maxSequence and asks for a rekey', () => {
    const { tx, rx } = pair(suite, { maxSequence: 3 });
    for (let i = 0; i < 3; i++) rx.open(tx.seal(new Uint8Array(1)));
    expect(tx.remaining).toBe(0);
    const err = errorOf(() => tx.seal(new Uint8Array(1)));
    expect(err).toBeInstanceOf(SequenceExhaustedError);
    expect((err as SequenceExhaustedError).limit).toBe(3);
    expect((err as Error).message).toMatch(/rekey/);
    expect(errorOf(() => tx.seal(new Uint8Array(1)))).toBeInstanceOf(SequenceExhaustedError);
  });
});

describe('SecurityAssociation options', () => {
  const good = { spi: 1000, key: new Uint8Array(32), salt: new Uint8Array(4) };
  it.each([
    [{ ...good, spi: 255 }, 'spi', /^SecurityAssociation: option "spi" .*\(got 255\)$/],
    [{ ...good, spi: 2 ** 32 }, 'spi', /SecurityAssociation: option "spi"/],
    [{ ...good, key: new Uint8Array(16) }, 'key', /SecurityAssociation: option "key" must be a Uint8Array of 32 bytes \(got a Uint8Array of 16 bytes\)/],
    [{ ...good, salt: new Uint8Array(8) }, 'salt', /SecurityAssociation: option "salt"/],
    [{ ...good, suite: 'aes-128-cbc' }, 'suite', /SecurityAssociation: option "suite" .*\(got "aes-128-cbc"\)/],
    [{ ...good, replayWindow: 100 }, 'replayWindow', /SecurityAssociation: option "replayWindow" must be a multiple of 32/],
    [{ ...good, maxSequence: 0 }, 'maxSequence', /SecurityAssociation: option "maxSequence"/],
    [{ ...good, nextSequence: 0 }, 'nextSequence', /SecurityAssociation: option "nextSequence"/],
    [undefined, 'spi', /SecurityAssociation: option "spi"/],
  ])('rejects %p', (opts, field, message) => {
    expectInvalidOption(() => new SecurityAssociation(opts as never), field, message);
  });

  it('defaults to aes-256-gcm with a 2048-packet window', () => {
    const sa = new SecurityAssociation(good);
    expect(sa.suite).toBe('aes-256-gcm');
    expect(sa.replayWindow).toBe(2048);
    expect(sa.nextSequence).toBe(1);
  });
});
