/**
 * Bad input: random bytes, truncations and bit flips only ever produce a
 * MalformedPacketError naming the layer (never a RangeError/TypeError from
 * deep inside), and checksum corruption is detected.
 */
import fc from 'fast-check';
import {
  arp,
  ethernet,
  icmpv4,
  ipv4,
  MalformedPacketError,
  readVni,
  udp,
  vxlanHeader,
  type Decoded,
} from '../../src';
import { arpArb, ethernetArb, icmpArb, ipv4Arb, pseudoArb, udpArb } from './arbitraries';
import { fromHex, kernelVxlanFrames } from '../fixtures/kernel-vxlan';

type Decode = (buf: Uint8Array, offset?: number) => Decoded<unknown>;

const decoders: [string, Decode][] = [
  ['vxlan', (b, o) => vxlanHeader.decode(b, o)],
  ['ethernet', (b, o) => ethernet.decode(b, o)],
  ['arp', (b, o) => arp.decode(b, o)],
  ['ipv4', (b, o) => ipv4.decode(b, o)],
  ['icmpv4', (b, o) => icmpv4.decode(b, o)],
  ['udp', (b, o) => udp.decode(b, o)],
  ['udp', (b, o) => udp.decode(b, o, { src: '192.0.2.1', dst: '192.0.2.2' })],
];

/** Runs `fn`; returns the error if it threw one, after checking it is a MalformedPacketError of `layer`. */
function onlyMalformed(layer: string, fn: () => unknown): MalformedPacketError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedPacketError);
    const e = err as MalformedPacketError;
    expect(e.name).toBe('MalformedPacketError');
    expect(e.layer).toBe(layer);
    expect(e.message.startsWith(`${layer}: `)).toBe(true);
    return e;
  }
}

function expectMalformed(layer: string, pattern: RegExp, fn: () => unknown): void {
  const e = onlyMalformed(layer, fn);
  expect(e).toBeDefined();
  expect(e!.message).toMatch(pattern);
}

describe('malformed input', () => {
  test.each(decoders)('%s: random bytes at random offsets decode or throw MalformedPacketError', (layer, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 130 }), (bytes, offset) => {
        onlyMalformed(layer, () => decode(bytes, offset));
      }),
      { numRuns: 500 },
    );
  });

  test.each(decoders)('%s: empty input and negative or fractional offsets are MalformedPacketError', (layer, decode) => {
    expectMalformed(layer, /truncated/, () => decode(new Uint8Array(0)));
    expectMalformed(layer, /truncated/, () => decode(new Uint8Array(64), -1));
    expectMalformed(layer, /truncated/, () => decode(new Uint8Array(64), 1.5));
  });

  test('every truncation of a kernel frame fails at some layer with MalformedPacketError', () => {
    const frame = fromHex(kernelVxlanFrames.echoRequest1);
    for (let cut = 0; cut < frame.length; cut++) {
      const short = frame.subarray(0, cut);
      let error: unknown;
      try {
        const eth = ethernet.decode(short).value;
        const ip = ipv4.decode(eth.payload).value;
        const d = udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst }).value;
        vxlanHeader.decode(d.payload);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MalformedPacketError);
    }
  });

  test('truncated encodings: arp, ipv4, udp, echo header', () => {
    fc.assert(
      fc.property(arpArb, ipv4Arb, udpArb, icmpArb, fc.nat(), (a, p, u, m, r) => {
        const ab = arp.encode(a);
        expectMalformed('arp', /truncated packet/, () => arp.decode(ab.subarray(0, r % ab.length)));
        const pb = ipv4.encode(p);
        expectMalformed('ipv4', /truncated/, () => ipv4.decode(pb.subarray(0, r % pb.length)));
        const ub = udp.encode(u);
        expectMalformed('udp', /truncated/, () => udp.decode(ub.subarray(0, r % ub.length)));
        const mb = icmpv4.encode(m);
        const hl = m.type === 0 || m.type === 8 ? 8 : 4;
        expectMalformed('icmpv4', /truncated/, () => icmpv4.decode(mb.subarray(0, r % hl)));
      }),
    );
  });

  test('ipv4: any single bit flip in the header is rejected; flips of ttl say "checksum mismatch"', () => {
    fc.assert(
      fc.property(ipv4Arb, fc.nat(), (p, r) => {
        const bytes = ipv4.encode(p);
        const hl = 20 + (p.options?.length ?? 0);
        const bit = r % (hl * 8);
        bytes[bit >> 3] = bytes[bit >> 3]! ^ (0x80 >> (bit & 7));
        expectMalformed('ipv4', /./, () => ipv4.decode(bytes));
      }),
    );
    const bytes = ipv4.encode({ tos: 0, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(4) });
    bytes[8] = 63;
    expectMalformed('ipv4', /header checksum mismatch: stored 0x[0-9a-f]{4}, computed 0x[0-9a-f]{4}/, () => ipv4.decode(bytes));
  });

  test('icmpv4: any single bit flip is a checksum mismatch', () => {
    fc.assert(
      fc.property(icmpArb, fc.nat(), (m, r) => {
        const bytes = icmpv4.encode(m);
        const bit = r % (bytes.length * 8);
        bytes[bit >> 3] = bytes[bit >> 3]! ^ (0x80 >> (bit & 7));
        expectMalformed('icmpv4', /checksum mismatch|truncated/, () => icmpv4.decode(bytes));
      }),
    );
  });

  test('udp: any single bit flip with a pseudo-header is rejected (unless it zeroes the checksum field)', () => {
    fc.assert(
      fc.property(udpArb, pseudoArb, fc.nat(), (u, pseudo, r) => {
        const bytes = udp.encode(u, undefined, 0, pseudo);
        const bit = r % (bytes.length * 8);
        bytes[bit >> 3] = bytes[bit >> 3]! ^ (0x80 >> (bit & 7));
        fc.pre(((bytes[6]! << 8) | bytes[7]!) !== 0);
        expectMalformed('udp', /checksum mismatch|length field|truncated/, () => udp.decode(bytes, 0, pseudo));
      }),
    );
  });

  test('udp: checksum 0 means none and is accepted with a pseudo-header', () => {
    const bytes = udp.encode({ srcPort: 1, dstPort: 2, payload: Uint8Array.of(1, 2, 3) });
    expect(bytes[6]).toBe(0);
    expect(bytes[7]).toBe(0);
    expect(udp.decode(bytes, 0, { src: '10.0.0.1', dst: '10.0.0.2' }).value.payload).toEqual(Uint8Array.of(1, 2, 3));
  });

  test('udp: length field below 8 or beyond the input', () => {
    const bytes = udp.encode({ srcPort: 1, dstPort: 2, payload: new Uint8Array(4) });
    bytes[5] = 7;
    expectMalformed('udp', /length field 7 is below 8/, () => udp.decode(bytes));
    bytes[5] = 13;
    expectMalformed('udp', /truncated datagram \(length field 13\)/, () => udp.decode(bytes));
  });

  test('ipv4: wrong version, short IHL, total length below header', () => {
    const good = ipv4.encode({ tos: 0, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 1, protocol: 1, src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(8) });
    const v6 = Uint8Array.from(good);
    v6[0] = 0x65;
    expectMalformed('ipv4', /version is 6, expected 4/, () => ipv4.decode(v6));
    const ihl = Uint8Array.from(good);
    ihl[0] = 0x44;
    expectMalformed('ipv4', /header length 16 bytes is below 20/, () => ipv4.decode(ihl));
    const total = Uint8Array.from(good);
    total[2] = 0;
    total[3] = 19;
    expectMalformed('ipv4', /total length 19 is smaller than header length 20/, () => ipv4.decode(total));
  });

  test('vxlan: I flag clear is rejected; reserved bits are ignored', () => {
    const h = vxlanHeader.encode({ vni: 0x123456 });
    expect(Array.from(h)).toEqual([0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
    const noI = Uint8Array.from(h);
    noI[0] = 0x00;
    expectMalformed('vxlan', /I flag \(0x08\) not set in flags 0x00/, () => vxlanHeader.decode(noI));
    expect(readVni(noI)).toBe(-1);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (raw) => {
        const b = Uint8Array.from(raw);
        b[0] = b[0]! | 0x08; // I set, every other bit random
        const vni = (b[4]! << 16) | (b[5]! << 8) | b[6]!;
        expect(vxlanHeader.decode(b).value).toEqual({ vni });
        expect(readVni(b)).toBe(vni);
        expect(vxlanHeader.encode(vxlanHeader.decode(b).value)).toEqual(Uint8Array.of(8, 0, 0, 0, b[4]!, b[5]!, b[6]!, 0));
      }),
    );
    expect(readVni(h.subarray(0, 7))).toBe(-1);
    expect(readVni(h, -1)).toBe(-1);
  });

  test('arp: other hardware/protocol types and opcodes are rejected', () => {
    const good = arp.encode({ op: 'request', senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' });
    const htype = Uint8Array.from(good);
    htype[1] = 6;
    expectMalformed('arp', /htype 6/, () => arp.decode(htype));
    const op = Uint8Array.from(good);
    op[7] = 3; // RARP request
    expectMalformed('arp', /unsupported opcode 3/, () => arp.decode(op));
  });

  test('ethernet: tag announced but cut short', () => {
    const frame = ethernet.encode({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', vlan: { pcp: 1, dei: false, vid: 10 }, etherType: 0x0800, payload: new Uint8Array(0) });
    expect(frame.length).toBe(18);
    expectMalformed('ethernet', /truncated 802\.1Q tag/, () => ethernet.decode(frame.subarray(0, 16)));
    expect(ethernet.decode(frame).value.vlan).toEqual({ pcp: 1, dei: false, vid: 10 });
  });

  test('malformed packets from the fuzz corpus are never TypeErrors', () => {
    // Every decoder over every truncation and bit flip of every kernel frame.
    for (const hex of Object.values(kernelVxlanFrames)) {
      const frame = fromHex(hex);
      for (let i = 0; i < frame.length; i += 7) {
        const flipped = Uint8Array.from(frame);
        flipped[i] = flipped[i]! ^ 0xff;
        for (const [layer, decode] of decoders) {
          for (const offset of [0, 14, 34, 42, 50, 64]) onlyMalformed(layer, () => decode(flipped, offset));
        }
      }
    }
  });
});

describe('encode rejects out-of-range values with InvalidFieldError', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['vni 2^24', () => vxlanHeader.encode({ vni: 0x1000000 }), /vxlan: vni must be an integer in 0\.\.16777215, got 16777216/],
    ['vni -1', () => vxlanHeader.encode({ vni: -1 }), /got -1/],
    ['vni 1.5', () => vxlanHeader.encode({ vni: 1.5 }), /got 1\.5/],
    ['bad mac', () => ethernet.encode({ dst: 'zz:00:00:00:00:00', src: '02:00:00:00:00:01', etherType: 0x800, payload: new Uint8Array(0) }), /mac: address must look like/],
    ['vid 4096', () => ethernet.encode({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', vlan: { pcp: 0, dei: false, vid: 4096 }, etherType: 0x800, payload: new Uint8Array(0) }), /ethernet: vlan\.vid/],
    ['bad ip', () => arp.encode({ op: 'reply', senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.256', targetMac: '02:00:00:00:00:02', targetIp: '10.0.0.1' }), /ipv4: address must be a dotted quad.*10\.0\.0\.256/],
    ['arp op', () => arp.encode({ op: 'nak' as 'reply', senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetMac: '02:00:00:00:00:02', targetIp: '10.0.0.1' }), /arp: op must be/],
    ['ipv4 options 3 bytes', () => ipv4.encode({ tos: 0, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 1, protocol: 1, src: '10.0.0.1', dst: '10.0.0.2', options: new Uint8Array(3), payload: new Uint8Array(0) }), /ipv4: options length must be a multiple of 4/],
    ['ipv4 ttl 256', () => ipv4.encode({ tos: 0, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 256, protocol: 1, src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(0) }), /ipv4: ttl must be an integer in 0\.\.255, got 256/],
    ['ipv4 too long', () => ipv4.encode({ tos: 0, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 1, protocol: 1, src: '10.0.0.1', dst: '10.0.0.2', payload: new Uint8Array(65516) }), /total length 65536/],
    ['icmp id on non-echo', () => icmpv4.encode({ type: 3, code: 1, id: 1, payload: new Uint8Array(0) }), /icmpv4: id\/seq only belong to echo/],
    ['udp port 65536', () => udp.encode({ srcPort: 65536, dstPort: 1, payload: new Uint8Array(0) }), /udp: srcPort must be an integer in 0\.\.65535, got 65536/],
    ['small buffer', () => udp.encode({ srcPort: 1, dstPort: 1, payload: new Uint8Array(4) }, new Uint8Array(12), 1), /udp: buf too small: need 12 bytes at offset 1, buffer has 12 bytes/],
  ];
  test.each(cases)('%s', (_name, fn, pattern) => {
    expect(fn).toThrow(pattern);
    try {
      fn();
    } catch (err) {
      expect((err as Error).name).toBe('InvalidFieldError');
    }
  });
});
