/**
 * Decodes real VXLAN packets sent by the Linux kernel (see ../fixtures/kernel-vxlan.ts
 * for how they were captured) and checks every layer against what tshark reported
 * for the same capture; then rebuilds each packet with our encoders and expects the
 * kernel's bytes back.
 */
import { parseIpv4 } from '@weft/interface';
import {
  arp,
  buildUnderlayFrame,
  ethernet,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  icmpv4,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  ipv4,
  readVni,
  finishChecksum,
  pseudoHeaderSum,
  udp,
  vxlanHeader,
  VXLAN_PORT,
  type EthernetFrame,
  type Ipv4Packet,
} from '../../src';
import { fromHex, kernelVxlanFrames, kernelVxlanOffloadFrames } from '../fixtures/kernel-vxlan';

const HOST_A = '192.0.2.1';
const HOST_B = '192.0.2.2';
const MAC_A = '02:42:0a:2a:00:01';
const MAC_B = '02:42:0a:2a:00:02';

interface Unwrapped {
  outerEth: EthernetFrame;
  outerIp: Ipv4Packet;
  srcPort: number;
  vxlanPayload: Uint8Array;
  vni: number;
  inner: EthernetFrame;
}

/** Decodes outer Ethernet / IPv4 / UDP (checksums verified) / VXLAN / inner Ethernet. */
function unwrap(hex: string): Unwrapped {
  const frame = fromHex(hex);
  const outerEth = ethernet.decode(frame).value;
  expect(outerEth.etherType).toBe(ETHERTYPE_IPV4);
  const outerIp = ipv4.decode(outerEth.payload).value;
  expect(outerIp.protocol).toBe(IPPROTO_UDP);
  const datagram = udp.decode(outerIp.payload, 0, { src: outerIp.src, dst: outerIp.dst });
  expect(datagram.value.dstPort).toBe(VXLAN_PORT);
  const header = vxlanHeader.decode(datagram.value.payload);
  expect(readVni(datagram.value.payload)).toBe(header.value.vni);
  const inner = ethernet.decode(datagram.value.payload, header.bytes).value;
  return {
    outerEth,
    outerIp,
    srcPort: datagram.value.srcPort,
    vxlanPayload: datagram.value.payload,
    vni: header.value.vni,
    inner,
  };
}

/** Re-encodes the inner frame layer by layer and returns the whole VXLAN UDP payload. */
function rebuildVxlanPayload(u: Unwrapped, innerL3: Uint8Array): Uint8Array {
  const innerFrame = ethernet.encode({ ...u.inner, payload: innerL3 });
  const out = new Uint8Array(8 + innerFrame.length);
  vxlanHeader.encode({ vni: u.vni }, out, 0);
  out.set(innerFrame, 8);
  return out;
}

describe('kernel vxlan fixtures (Linux vxlan id 42 dstport 4789)', () => {
  test('ARP request: VNI 42, broadcast from 02:42:0a:2a:00:01, who-has 10.42.0.2', () => {
    const u = unwrap(kernelVxlanFrames.arpRequest);
    expect(u.vni).toBe(42);
    expect(u.outerIp.src).toBe(HOST_A);
    expect(u.outerIp.dst).toBe(HOST_B);
    expect(u.outerIp.ttl).toBe(64);
    expect(u.srcPort).toBe(58477); // tshark: udp.srcport
    expect(u.inner.dst).toBe('ff:ff:ff:ff:ff:ff');
    expect(u.inner.src).toBe(MAC_A);
    expect(u.inner.vlan).toBeUndefined();
    expect(u.inner.etherType).toBe(ETHERTYPE_ARP);
    const a = arp.decode(u.inner.payload);
    expect(a.value).toEqual({
      op: 'request',
      senderMac: MAC_A,
      senderIp: '10.42.0.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '10.42.0.2',
    });
    expect(a.bytes).toBe(28);
    expect(rebuildVxlanPayload(u, arp.encode(a.value))).toEqual(u.vxlanPayload);
  });

  test('ARP reply: 10.42.0.2 is at 02:42:0a:2a:00:02', () => {
    const u = unwrap(kernelVxlanFrames.arpReply);
    expect(u.vni).toBe(42);
    expect(u.outerIp.src).toBe(HOST_B);
    expect(u.inner.dst).toBe(MAC_A);
    expect(u.inner.src).toBe(MAC_B);
    const a = arp.decode(u.inner.payload).value;
    expect(a).toEqual({ op: 'reply', senderMac: MAC_B, senderIp: '10.42.0.2', targetMac: MAC_A, targetIp: '10.42.0.1' });
    expect(rebuildVxlanPayload(u, arp.encode(a))).toEqual(u.vxlanPayload);
  });

  const echoes = [
    ['echoRequest1', 8, 1, '10.42.0.1', '10.42.0.2'],
    ['echoReply1', 0, 1, '10.42.0.2', '10.42.0.1'],
    ['echoRequest2', 8, 2, '10.42.0.1', '10.42.0.2'],
    ['echoReply2', 0, 2, '10.42.0.2', '10.42.0.1'],
  ] as const;
  test.each(echoes)('%s: ICMP type %d, id 0x1fcb, seq %d, checksums valid', (name, type, seq, src, dst) => {
    const u = unwrap(kernelVxlanFrames[name]);
    expect(u.vni).toBe(42);
    expect(u.inner.etherType).toBe(ETHERTYPE_IPV4);
    const ip = ipv4.decode(u.inner.payload); // verifies the header checksum
    expect(ip.value).toMatchObject({ src, dst, protocol: IPPROTO_ICMP, ttl: 64, mf: false, fragmentOffset: 0 });
    expect(ip.value.options).toBeUndefined();
    expect(ip.bytes).toBe(84); // ping's 56 data bytes + 8 ICMP + 20 IP
    const icmp = icmpv4.decode(ip.value.payload); // verifies the ICMP checksum
    expect(icmp.value.type).toBe(type);
    expect(icmp.value.code).toBe(0);
    expect(icmp.value.id).toBe(0x1fcb); // tshark: id=0x1fcb
    expect(icmp.value.seq).toBe(seq);
    expect(icmp.value.payload.length).toBe(56);
    // ping's pattern: bytes 0x10.. after its 16-byte timestamp
    expect(Array.from(icmp.value.payload.subarray(16, 20))).toEqual([0x10, 0x11, 0x12, 0x13]);
    const rebuilt = ipv4.encode({ ...ip.value, payload: icmpv4.encode(icmp.value) });
    expect(rebuildVxlanPayload(u, rebuilt)).toEqual(u.vxlanPayload);
  });

  test('UDP "hello weft" to port 7777 with a valid inner UDP checksum', () => {
    const u = unwrap(kernelVxlanFrames.udpHello);
    const ip = ipv4.decode(u.inner.payload).value;
    expect(ip.protocol).toBe(IPPROTO_UDP);
    expect(ip.df).toBe(true);
    const d = udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst });
    expect(d.value.srcPort).toBe(55659); // tshark: 55659 → 7777
    expect(d.value.dstPort).toBe(7777);
    expect(Buffer.from(d.value.payload).toString()).toBe('hello weft');
    const rebuilt = ipv4.encode({ ...ip, payload: udp.encode(d.value, undefined, 0, { src: ip.src, dst: ip.dst }) });
    expect(rebuildVxlanPayload(u, rebuilt)).toEqual(u.vxlanPayload);
  });

  test('ICMP port unreachable: non-echo type keeps the quoted datagram in payload', () => {
    const u = unwrap(kernelVxlanFrames.icmpPortUnreachable);
    const ip = ipv4.decode(u.inner.payload).value;
    expect(ip.tos).toBe(0xc0); // tshark: DSCP CS6 for ICMP errors
    const icmp = icmpv4.decode(ip.payload).value;
    expect(icmp.type).toBe(3);
    expect(icmp.code).toBe(3);
    expect(icmp.id).toBeUndefined();
    // payload = 4 unused bytes + the original IPv4 header + 8 bytes of its UDP header
    const quoted = ipv4.decode(icmp.payload, 4);
    expect(quoted.value.dst).toBe('10.42.0.2');
    expect(icmp.payload.length).toBe(4 + 38);
  });

  test('a flipped bit in the kernel UDP datagram fails the UDP checksum', () => {
    const u = unwrap(kernelVxlanFrames.udpHello);
    const ip = ipv4.decode(u.inner.payload).value;
    const copy = Uint8Array.from(ip.payload);
    copy[10] = copy[10]! ^ 0x01; // inside "hello weft"
    expect(() => udp.decode(copy, 0, { src: ip.src, dst: ip.dst })).toThrow(/udp: checksum mismatch: stored 0xd1da, computed 0xd0da/); // +0x0100 in the sum
    // without the pseudo-header the checksum is not verified
    expect(udp.decode(copy).value.dstPort).toBe(7777);
  });

  test.each(Object.keys(kernelVxlanFrames) as (keyof typeof kernelVxlanFrames)[])(
    'buildUnderlayFrame reproduces the kernel outer frame of %s byte for byte',
    (name) => {
      const frame = fromHex(kernelVxlanFrames[name]);
      const u = unwrap(kernelVxlanFrames[name]);
      const rebuilt = buildUnderlayFrame({
        srcIp: u.outerIp.src,
        dstIp: u.outerIp.dst,
        srcPort: u.srcPort,
        payload: u.vxlanPayload,
        srcMac: u.outerEth.src,
        dstMac: u.outerEth.dst,
        id: u.outerIp.id,
        ttl: u.outerIp.ttl,
      });
      expect(Buffer.from(rebuilt).toString('hex')).toBe(Buffer.from(frame).toString('hex'));
    },
  );

  test('checksum offload left on: inner UDP carries the CHECKSUM_PARTIAL seed, outer is LCO-correct once it is completed', () => {
    const frame = fromHex(kernelVxlanOffloadFrames.udpHello);
    const outerEth = ethernet.decode(frame).value;
    const outerIp = ipv4.decode(outerEth.payload).value; // IPv4 header checksums are always final
    const pseudo = { src: outerIp.src, dst: outerIp.dst };
    expect(() => udp.decode(outerIp.payload, 0, pseudo)).toThrow(/udp: checksum mismatch: stored 0x8d45/);
    const outer = udp.decode(outerIp.payload).value; // no pseudo-header: not verified
    expect(vxlanHeader.decode(outer.payload).value.vni).toBe(42);
    const inner = ethernet.decode(outer.payload, 8).value;
    const ip = ipv4.decode(inner.payload).value;
    const innerPseudo = { src: ip.src, dst: ip.dst };
    expect(() => udp.decode(ip.payload, 0, innerPseudo)).toThrow(/udp: checksum mismatch: stored 0x147a/);

    // The seed is the folded, uncomplemented pseudo-header sum: our pseudoHeaderSum agrees with the kernel's.
    const seed = ~finishChecksum(pseudoHeaderSum(parseIpv4(ip.src), parseIpv4(ip.dst), IPPROTO_UDP, ip.payload.length)) & 0xffff;
    expect(seed).toBe(0x147a);

    // Complete the inner checksum as a NIC would: then both checksums verify.
    const datagram = udp.decode(ip.payload).value;
    const completed = udp.encode(datagram, undefined, 0, innerPseudo);
    const innerStart = 14 + 20 + 8 + 8 + 14 + 20; // outer Ethernet, IP, UDP, VXLAN, inner Ethernet, inner IP
    const fixed = Uint8Array.from(frame);
    fixed.set(completed.subarray(6, 8), innerStart + 6);
    const fixedIp = ipv4.decode(ethernet.decode(fixed).value.payload).value;
    const fixedOuter = udp.decode(fixedIp.payload, 0, pseudo); // verifies: LCO was right
    const fixedInnerIp = ipv4.decode(ethernet.decode(fixedOuter.value.payload, 8).value.payload).value;
    expect(Buffer.from(udp.decode(fixedInnerIp.payload, 0, innerPseudo).value.payload).toString()).toBe('hello weft');
  });
});
