/**
 * Wireshark's own dissectors (tshark) read a capture of VXLAN packets built by
 * our encoders and written by PcapWriter: they must see the VNI, the inner
 * ARP / ICMP echo / 802.1Q-tagged UDP, and judge every checksum good.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  PcapWriter,
  readPcap,
  udp,
  vxlanHeader,
  type EthernetFrame,
} from '../../src';
import { commandCapability, describeWith } from '../../../../test-support/capabilities';

const MAC_A = '02:42:0a:00:00:0a';
const MAC_B = '02:42:0a:00:00:0b';

function vxlanPacket(vni: number, inner: EthernetFrame): Uint8Array {
  const frame = ethernet.encode(inner);
  const out = new Uint8Array(8 + frame.length);
  vxlanHeader.encode({ vni }, out, 0);
  out.set(frame, 8);
  return out;
}

function ipPacket(src: string, dst: string, protocol: number, payload: Uint8Array, id: number): Uint8Array {
  return ipv4.encode({ tos: 0, id, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol, src, dst, payload });
}

/** The frames in the capture, in order, with what tshark must report for each. */
function buildFrames(): { frame: Uint8Array; expect: Record<string, string> }[] {
  const echoData = Uint8Array.from({ length: 32 }, (_, i) => i);
  const list: { vni: number; inner: EthernetFrame; expect: Record<string, string> }[] = [
    {
      vni: 4096,
      inner: { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: ETHERTYPE_ARP, payload: arp.encode({ op: 'request', senderMac: MAC_A, senderIp: '10.0.0.10', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.11' }) },
      expect: { 'vxlan.vni': '4096', 'arp.opcode': '1', 'arp.src.proto_ipv4': '10.0.0.10', 'arp.dst.proto_ipv4': '10.0.0.11', 'eth.src': `02:42:c0:00:02:01,${MAC_A}` },
    },
    {
      vni: 4096,
      inner: { dst: MAC_A, src: MAC_B, etherType: ETHERTYPE_ARP, payload: arp.encode({ op: 'reply', senderMac: MAC_B, senderIp: '10.0.0.11', targetMac: MAC_A, targetIp: '10.0.0.10' }) },
      expect: { 'vxlan.vni': '4096', 'arp.opcode': '2', 'arp.src.hw_mac': MAC_B, 'arp.dst.hw_mac': MAC_A },
    },
    {
      vni: 4096,
      inner: { dst: MAC_B, src: MAC_A, etherType: ETHERTYPE_IPV4, payload: ipPacket('10.0.0.10', '10.0.0.11', IPPROTO_ICMP, icmpv4.encode({ type: 8, code: 0, id: 0x1234, seq: 7, payload: echoData }), 1) },
      expect: { 'vxlan.vni': '4096', 'icmp.type': '8', 'icmp.ident': '4660', 'icmp.seq': '7', 'icmp.checksum.status': '1', 'ip.checksum.status': '1,1' },
    },
    {
      vni: 4096,
      inner: { dst: MAC_A, src: MAC_B, etherType: ETHERTYPE_IPV4, payload: ipPacket('10.0.0.11', '10.0.0.10', IPPROTO_ICMP, icmpv4.encode({ type: 0, code: 0, id: 0x1234, seq: 7, payload: echoData }), 2) },
      expect: { 'vxlan.vni': '4096', 'icmp.type': '0', 'icmp.ident': '4660', 'icmp.seq': '7', 'icmp.checksum.status': '1' },
    },
    {
      vni: 0xffffff,
      inner: {
        dst: MAC_B,
        src: MAC_A,
        vlan: { pcp: 5, dei: true, vid: 100 },
        etherType: ETHERTYPE_IPV4,
        payload: ipPacket('10.0.0.10', '10.0.0.11', IPPROTO_UDP, udp.encode({ srcPort: 40000, dstPort: 7777, payload: new TextEncoder().encode('hello weft') }, undefined, 0, { src: '10.0.0.10', dst: '10.0.0.11' }), 3),
      },
      expect: { 'vxlan.vni': '16777215', 'vlan.id': '100', 'vlan.priority': '5', 'vlan.dei': '1', 'udp.dstport': '4789,7777', 'udp.checksum.status': '1,1' },
    },
    {
      vni: 0,
      inner: { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: ETHERTYPE_ARP, payload: arp.encode({ op: 'request', senderMac: MAC_A, senderIp: '10.0.0.10', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.12' }) },
      expect: { 'vxlan.vni': '0', 'arp.opcode': '1' },
    },
  ];
  return list.map((p, i) => ({
    frame: buildUnderlayFrame({ srcIp: '192.0.2.1', dstIp: '192.0.2.2', srcPort: 49152 + i, payload: vxlanPacket(p.vni, p.inner), id: i }),
    expect: p.expect,
  }));
}

describeWith(commandCapability('tshark', ['-v']), 'tshark decodes captures written by PcapWriter', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-tshark-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('VNI, inner ARP / ICMP echo / tagged UDP, all checksums good', () => {
    const frames = buildFrames();
    const path = join(dir, 'vxlan.pcap');
    let clock = 1_700_000_000_000;
    const writer = PcapWriter.toFile(path, { clock: { now: () => (clock += 1.5) } });
    for (const f of frames) writer.write(f.frame);
    writer.close();

    const fields = Array.from(new Set(frames.flatMap((f) => Object.keys(f.expect))));
    const out = execFileSync(
      'tshark',
      [
        '-r', path,
        '-o', 'ip.check_checksum:TRUE',
        '-o', 'udp.check_checksum:TRUE',
        '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
        ...fields.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(frames.length);
    lines.forEach((line, i) => {
      const cols = line.split('|');
      const got: Record<string, string> = {};
      fields.forEach((f, j) => {
        got[f] = cols[j] ?? '';
      });
      for (const [field, want] of Object.entries(frames[i]!.expect)) {
        expect(`frame ${i + 1} ${field}=${got[field]}`).toBe(`frame ${i + 1} ${field}=${want}`);
      }
    });
  });

  test('IPv6 underlay: VNI and inner ARP decoded, outer UDP checksum good (mandatory on IPv6)', () => {
    const path = join(dir, 'vxlan6.pcap');
    const inner = vxlanPacket(77, {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: MAC_A,
      etherType: ETHERTYPE_ARP,
      payload: arp.encode({ op: 'request', senderMac: MAC_A, senderIp: '10.0.0.10', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.11' }),
    });
    const writer = PcapWriter.toFile(path, { clock: { now: () => 0 } });
    writer.write(buildUnderlayFrame({ srcIp: '2001:db8::1', dstIp: 'fe80::2%lo', srcPort: 50001, payload: inner }));
    writer.write(buildUnderlayFrame({ srcIp: '::1', dstIp: '::ffff:192.0.2.2', srcPort: 65535, payload: inner, ttl: 1 }));
    writer.close();
    const out = execFileSync(
      'tshark',
      ['-r', path, '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.hlim', '-e', 'udp.srcport', '-e', 'udp.checksum.status', '-e', 'vxlan.vni', '-e', 'arp.opcode', '-e', '_ws.expert.severity'],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out.trimEnd().split('\n')).toEqual(['2001:db8::1|fe80::2|64|50001|1|77|1|', '::1|::ffff:192.0.2.2|1|65535|1|77|1|']);
  });

  test('tshark reports no malformed or expert warnings for the capture', () => {
    const path = join(dir, 'vxlan-expert.pcap');
    const writer = PcapWriter.toFile(path, { clock: { now: () => 0 } });
    for (const f of buildFrames()) writer.write(f.frame);
    writer.close();
    const out = execFileSync('tshark', ['-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-e', '_ws.malformed', '-e', '_ws.expert.severity'], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Columns are empty unless a dissector flagged something.
    expect(out.split('\n').filter((l) => l.trim() !== '')).toEqual([]);
  });

  test('a file rewritten by tshark with nanosecond timestamps reads back with the same frames', () => {
    const ours = join(dir, 'ours.pcap');
    const theirs = join(dir, 'theirs.pcap');
    const frames = buildFrames();
    let t = 1_700_000_000_000;
    const writer = PcapWriter.toFile(ours, { clock: { now: () => (t += 0.25) } });
    for (const f of frames) writer.write(f.frame);
    writer.close();
    execFileSync('tshark', ['-r', ours, '-F', 'nsecpcap', '-w', theirs], { timeout: 30_000, stdio: 'ignore' });
    const back = readPcap(new Uint8Array(readFileSync(theirs)));
    expect(back.header.nanosecond).toBe(true);
    expect(back.records.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f.frame).toString('hex')));
    expect(back.records.map((r) => r.microseconds)).toEqual([250, 500, 750, 1000, 1250, 1500]);
  });
});
