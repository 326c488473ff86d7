/** fast-check generators of valid codec values, shared by the property tests. */
import fc from 'fast-check';
import { formatIpv4, formatMac } from '@weft/interface';
import {
  type ArpPacket,
  type EthernetFrame,
  type Icmpv4Message,
  type Ipv4Packet,
  type UdpDatagram,
  type VxlanHeader,
} from '../../src';

export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMac(b, 0));
export const ipArb = fc.integer({ min: 0, max: 0xffffffff }).map(formatIpv4);
export const payloadArb = fc.uint8Array({ maxLength: 300 });

export const vxlanArb: fc.Arbitrary<VxlanHeader> = fc.record({ vni: fc.integer({ min: 0, max: 0xffffff }) });

export const ethernetArb: fc.Arbitrary<EthernetFrame> = fc
  .record({
    dst: macArb,
    src: macArb,
    vlan: fc.option(fc.record({ pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4095 }) }), {
      nil: undefined,
    }),
    // not 0x8100: a second tag would be read as such (only one tag is modelled)
    etherType: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== 0x8100),
    payload: payloadArb,
  })
  .map((f) => {
    if (f.vlan === undefined) {
      const { vlan: _drop, ...rest } = f;
      return rest;
    }
    return f;
  });

export const arpArb: fc.Arbitrary<ArpPacket> = fc.record({
  op: fc.constantFrom('request' as const, 'reply' as const),
  senderMac: macArb,
  senderIp: ipArb,
  targetMac: macArb,
  targetIp: ipArb,
});

export const ipv4Arb: fc.Arbitrary<Ipv4Packet> = fc
  .record({
    tos: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 0xffff }),
    df: fc.boolean(),
    mf: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
    ttl: fc.integer({ min: 0, max: 255 }),
    protocol: fc.integer({ min: 0, max: 255 }),
    src: ipArb,
    dst: ipArb,
    options: fc.option(
      fc.integer({ min: 1, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
      { nil: undefined },
    ),
    payload: payloadArb,
  })
  .map((p) => {
    if (p.options === undefined) {
      const { options: _drop, ...rest } = p;
      return rest;
    }
    return p;
  });

export const icmpArb: fc.Arbitrary<Icmpv4Message> = fc.oneof(
  fc.record({
    type: fc.constantFrom(0, 8),
    code: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.integer({ min: 0, max: 0xffff }),
    payload: payloadArb,
  }),
  fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== 0 && t !== 8),
    code: fc.integer({ min: 0, max: 255 }),
    payload: payloadArb,
  }),
);

export const udpArb: fc.Arbitrary<UdpDatagram> = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  payload: payloadArb,
});

export const pseudoArb = fc.record({ src: ipArb, dst: ipArb });
