import fc from 'fast-check';
import { parseIpv4, parseMac } from '@weft/interface';
import { ethernet, ipv4, udp, writeUdpFrame, FrameSlab } from '../../src';
import { fastOnesSum, onesSum } from '../../src/endpoint/udp-frame';
import { SIMD_SUM_AVAILABLE, simdOnesSum } from '../../src/endpoint/simd-sum';

/** RFC 1071 the plain way: big-endian 16-bit words, odd last byte padded, end-around carry after every add. */
function reference(b: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i += 2) {
    sum += (b[offset + i]! << 8) | (i + 1 < length ? b[offset + i + 1]! : 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return sum;
}

/** Folds an unfolded sum to 16 bits (0 stays 0: only all-zero data sums to 0). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** A buffer with `pad` bytes before `bytes`, and the view starting at the pad (so byteOffset varies). */
function placed(bytes: Uint8Array, pad: number): Uint8Array {
  const buf = new Uint8Array(pad + bytes.length + 8);
  buf.set(bytes, pad);
  return buf.subarray(pad);
}

describe('ones-complement sums', () => {
  it('the SIMD module compiles here (Node >= 20 has WebAssembly SIMD), so the fast path is what runs', () => {
    expect(SIMD_SUM_AVAILABLE).toBe(true);
  });

  it('simdOnesSum and fastOnesSum equal RFC 1071 word by word, at every alignment, odd lengths included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat({ max: 15 }), fc.nat({ max: 17 }), (bytes, pad, start) => {
        const view = placed(bytes, pad);
        const off = Math.min(start, bytes.length);
        const len = bytes.length - off;
        const expected = reference(view, off, len);
        return fold(simdOnesSum(view, off, len)) === expected && fold(fastOnesSum(view, off, len)) === expected && fold(onesSum(view, off, len)) === expected;
      }),
      { seed: 20240611, numRuns: 2000 },
    );
  });

  it('long ranges: every size up to the 64 KiB the SIMD module holds, biased to extreme bytes', () => {
    const byte = fc.oneof(fc.constant(0xff), fc.constant(0x00), fc.constant(0x80), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65536 }), fc.array(byte, { minLength: 1, maxLength: 64 }), fc.nat({ max: 7 }), (length, pattern, pad) => {
        const bytes = new Uint8Array(length);
        for (let i = 0; i < length; i++) bytes[i] = pattern[i % pattern.length]!;
        const view = placed(bytes, pad);
        const expected = reference(view, 0, length);
        return fold(simdOnesSum(view, 0, length)) === expected && fold(fastOnesSum(view, 0, length)) === expected;
      }),
      { seed: 9173, numRuns: 60 },
    );
  });

  it('all-0xff data (every lane and carry at its maximum) sums to 0xffff; all-zero data to 0; nothing to 0', () => {
    for (const length of [1, 2, 3, 15, 16, 17, 63, 64, 65, 1357, 1358, 1400, 4096, 65535, 65536]) {
      for (const pad of [0, 1, 2, 3]) {
        const ones = placed(new Uint8Array(length).fill(0xff), pad);
        const expected = reference(ones, 0, length);
        expect([length, pad, fold(simdOnesSum(ones, 0, length))]).toEqual([length, pad, expected]);
        expect([length, pad, fold(fastOnesSum(ones, 0, length))]).toEqual([length, pad, expected]);
        const zeros = placed(new Uint8Array(length), pad);
        expect(simdOnesSum(zeros, 0, length)).toBe(0);
        expect(fastOnesSum(zeros, 0, length)).toBe(0);
      }
    }
    expect(simdOnesSum(new Uint8Array(8), 0, 0)).toBe(0);
    expect(fastOnesSum(new Uint8Array(8), 0, 0)).toBe(0);
  });

  it('simdOnesSum declines ranges larger than its 64 KiB memory (-1: the caller sums in JS)', () => {
    expect(simdOnesSum(new Uint8Array(65537), 0, 65537)).toBe(-1);
    expect(simdOnesSum(new Uint8Array(70000), 100, 65536)).not.toBe(-1);
  });

  it('fastOnesSum stays exact past its 2^20-word chunks (a double alone would round the sum)', () => {
    const length = (1 << 22) + 4 * 3 + 1; // 2^20 words and a bit, odd
    const ones = new Uint8Array(length + 2).fill(0xff).subarray(2);
    expect(fold(fastOnesSum(ones, 0, length))).toBe(reference(ones, 0, length));
    const mixed = new Uint8Array(length);
    for (let i = 0; i < length; i++) mixed[i] = (i * 131 + 7) & 0xff;
    expect(fold(fastOnesSum(mixed, 0, length))).toBe(reference(mixed, 0, length));
  });

  it('without WebAssembly the module reports so, and writeUdpFrame sums in JS to the same bytes', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!;
    let jsOnly: { simd: typeof import('../../src/endpoint/simd-sum'); frame: typeof import('../../src/endpoint/udp-frame') } | undefined;
    try {
      delete (globalThis as { WebAssembly?: unknown }).WebAssembly;
      jest.isolateModules(() => {
        jsOnly = { simd: require('../../src/endpoint/simd-sum'), frame: require('../../src/endpoint/udp-frame') };
      });
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', saved);
    }
    expect(jsOnly!.simd.SIMD_SUM_AVAILABLE).toBe(false);
    expect(jsOnly!.simd.simdOnesSum(new Uint8Array(100), 0, 100)).toBe(-1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 1, max: 65535 }), (data, port) => {
        const fields = { dstMac: parseMac('02:00:00:00:00:02'), srcMac: parseMac('02:00:00:00:00:01'), srcIp: 0x0a000001, dstIp: 0x0a000002, id: 9, ttl: 64, srcPort: port, dstPort: 53, checksum: true };
        return Buffer.from(jsOnly!.frame.writeUdpFrame(fields, data)).equals(Buffer.from(writeUdpFrame(fields, data)));
      }),
      { seed: 515, numRuns: 300 },
    );
  });

  it('writeUdpFrame: header checksums computed from the field values match the codecs for any id, ttl, addresses and ports', () => {
    const slab = new FrameSlab(8192);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        (data, id, ttl, srcIp, dstIp, srcPort, dstPort) => {
          const frame = writeUdpFrame(
            { dstMac: parseMac('02:00:00:00:00:02'), srcMac: parseMac('02:00:00:00:00:01'), srcIp, dstIp, id, ttl, srcPort, dstPort, checksum: true },
            data,
            slab,
          );
          const ip = ipv4.decode(ethernet.decode(frame).value.payload).value; // verifies the header checksum
          const dgram = udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst }).value; // verifies the UDP checksum
          const check = (frame[40]! << 8) | frame[41]!;
          return ip.id === id && ip.ttl === ttl && parseIpv4(ip.src) === srcIp && parseIpv4(ip.dst) === dstIp && dgram.srcPort === srcPort && check !== 0;
        },
      ),
      { seed: 4242, numRuns: 400 },
    );
  });
});
