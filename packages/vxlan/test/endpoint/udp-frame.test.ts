import fc from 'fast-check';
import { parseIpv4, parseMac } from '@weft/interface';
import { ethernet, internetChecksum, ipv4, udp, writeUdpFrame, FrameSlab } from '../../src';
import { fastOnesSum, onesSum } from '../../src/endpoint/udp-frame';

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

describe('UDP frame builder', () => {
  it('the word-wise checksum equals RFC 1071 byte by byte, at every alignment and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.nat({ max: 7 }), fc.nat({ max: 7 }), (bytes, pad, start) => {
        const buf = new Uint8Array(pad + bytes.length + 8);
        buf.set(bytes, pad);
        const view = buf.subarray(pad);
        const off = Math.min(start, bytes.length);
        const len = bytes.length - off;
        const expected = internetChecksum(view, off, len);
        return fold(fastOnesSum(view, off, len)) === expected && fold(onesSum(view, off, len)) === expected;
      }),
      { seed: 1121, numRuns: 3000 },
    );
  });

  it('builds the bytes the codecs build, with correct IPv4 and UDP checksums', () => {
    const slab = new FrameSlab(4096);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.boolean(), (data, sp, dp, useSlab) => {
        const fields = {
          dstMac: parseMac('02:00:00:00:00:02'),
          srcMac: parseMac('02:00:00:00:00:01'),
          srcIp: parseIpv4('10.0.0.1'),
          dstIp: parseIpv4('10.0.0.2'),
          id: 7,
          ttl: 64,
          srcPort: sp,
          dstPort: dp,
          checksum: true,
        };
        const frame = writeUdpFrame(fields, data, useSlab ? slab : undefined);
        const eth = ethernet.decode(frame).value;
        const ip = ipv4.decode(eth.payload).value; // verifies the header checksum
        const dgram = udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst }).value; // verifies the UDP checksum
        const expected = ethernet.encode({
          dst: '02:00:00:00:00:02',
          src: '02:00:00:00:00:01',
          etherType: 0x0800,
          payload: ipv4.encode({
            tos: 0,
            id: 7,
            df: true,
            mf: false,
            fragmentOffset: 0,
            ttl: 64,
            protocol: 17,
            src: '10.0.0.1',
            dst: '10.0.0.2',
            payload: udp.encode({ srcPort: sp, dstPort: dp, payload: data }, undefined, 0, { src: '10.0.0.1', dst: '10.0.0.2' }),
          }),
        });
        return Buffer.from(frame).equals(Buffer.from(expected)) && Buffer.from(dgram.payload).equals(Buffer.from(data));
      }),
      { seed: 77, numRuns: 500 },
    );
  });
});
