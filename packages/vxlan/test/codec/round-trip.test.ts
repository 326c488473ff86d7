/**
 * Property tests: for every valid value, encodingLength equals the bytes written,
 * decode(encode(v)) gives v back consuming exactly those bytes, encode(decode(b)) gives
 * the same bytes, and encoding at an offset into a larger buffer writes the same bytes
 * there and nothing outside them.
 */
import fc from 'fast-check';
import { arp, ethernet, icmpv4, ipv4, udp, vxlanHeader, type Codec } from '../../src';
import { arpArb, ethernetArb, icmpArb, ipv4Arb, pseudoArb, udpArb, vxlanArb } from './arbitraries';

const SENTINEL = 0xa5;

function roundTrip<T>(codec: Codec<T>, value: T, offset: number): void {
  const length = codec.encodingLength(value);
  const bytes = codec.encode(value);
  expect(bytes.length).toBe(length);

  const decoded = codec.decode(bytes);
  expect(decoded.bytes).toBe(length);
  expect(decoded.value).toEqual(value);
  expect(codec.encode(decoded.value)).toEqual(bytes);

  const big = new Uint8Array(offset + length + 5).fill(SENTINEL);
  const returned = codec.encode(value, big, offset);
  expect(returned).toBe(big);
  expect(big.subarray(offset, offset + length)).toEqual(bytes);
  expect(big.subarray(0, offset).every((b) => b === SENTINEL)).toBe(true);
  expect(big.subarray(offset + length).every((b) => b === SENTINEL)).toBe(true);

  // Decode at the offset; codecs whose payload runs to the end of the input get exactly the encoding.
  const atOffset = codec.decode(big.subarray(0, offset + length), offset);
  expect(atOffset.bytes).toBe(length);
  expect(atOffset.value).toEqual(value);
}

const offsetArb = fc.integer({ min: 0, max: 40 });

describe('codec round trips (fast-check)', () => {
  test('vxlanHeader', () => {
    fc.assert(fc.property(vxlanArb, offsetArb, (v, o) => roundTrip(vxlanHeader, v, o)));
  });
  test('ethernet (with and without 802.1Q tag)', () => {
    fc.assert(fc.property(ethernetArb, offsetArb, (v, o) => roundTrip(ethernet, v, o)));
  });
  test('arp', () => {
    fc.assert(fc.property(arpArb, offsetArb, (v, o) => roundTrip(arp, v, o)));
  });
  test('ipv4 (with options)', () => {
    fc.assert(fc.property(ipv4Arb, offsetArb, (v, o) => roundTrip(ipv4, v, o)));
  });
  test('icmpv4 (echo and other types)', () => {
    fc.assert(fc.property(icmpArb, offsetArb, (v, o) => roundTrip(icmpv4, v, o)));
  });
  test('udp without checksum', () => {
    fc.assert(fc.property(udpArb, offsetArb, (v, o) => roundTrip(udp, v, o)));
  });
  test('udp with pseudo-header checksum: encoded non-zero, verified on decode', () => {
    fc.assert(
      fc.property(udpArb, pseudoArb, offsetArb, (v, pseudo, o) => {
        const big = new Uint8Array(o + udp.encodingLength(v));
        udp.encode(v, big, o, pseudo);
        const stored = (big[o + 6]! << 8) | big[o + 7]!;
        expect(stored).not.toBe(0);
        const d = udp.decode(big, o, pseudo);
        expect(d.value).toEqual(v);
        expect(d.bytes).toBe(big.length - o);
      }),
    );
  });

  test('ethernet padding after an IPv4 packet is not part of the IPv4 payload', () => {
    fc.assert(
      fc.property(ipv4Arb, fc.uint8Array({ minLength: 1, maxLength: 46 }), (p, padding) => {
        const packet = ipv4.encode(p);
        const frame = new Uint8Array(packet.length + padding.length);
        frame.set(packet);
        frame.set(padding, packet.length);
        const d = ipv4.decode(frame);
        expect(d.bytes).toBe(packet.length);
        expect(d.value.payload).toEqual(p.payload);
      }),
    );
  });
});
