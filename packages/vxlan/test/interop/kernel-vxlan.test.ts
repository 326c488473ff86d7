/**
 * Interop with the Linux kernel's own VXLAN device. Topology (all created here,
 * removed in afterAll even on failure):
 *
 *   root namespace (this test process)            namespace <tag>n
 *   UdpUnderlay 198.18.S.1:4789  --veth pair--   198.18.S.2  vx0 (kernel vxlan, id 4242,
 *   Vtep, segment 4242                                         dstport 4789, remote 198.18.S.1)
 *   Endpoint 198.19.S.1 / 02:57:..                             198.19.S.2/24 on vx0
 *
 * Checked: kernel ping → Endpoint, Endpoint.ping() → kernel, UDP both ways
 * intact (a node:dgram peer inside the namespace), and tshark decoding the
 * VTEP's outer traffic captured with the pcap writer.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { formatIpv6, parseIpv6 } from '@weft/interface';
import { Endpoint, PcapWriter, UdpUnderlay, Vtep, captureOuter, type OuterCapture } from '../../src';
import { allOf, commandCapability, describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { NetnsLab } from '../../../../test-support/netns';

const VNI = 4242;

// The kernel-side UDP peer: prints every datagram as JSON and answers with "echo:" + the same bytes.
const PEER_SCRIPT = `
const d = require('node:dgram').createSocket('udp4');
d.on('message', (m, r) => {
  process.stdout.write(JSON.stringify({ from: r.address, port: r.port, hex: m.toString('hex') }) + '\\n');
  d.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address);
});
d.bind(Number(process.argv[2]), process.argv[1], () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 45000).unref();
process.stdin.on('end', () => process.exit(0)).resume();
`;

describeWith(netnsCapability(), 'kernel vxlan interop (network namespace)', () => {
  const lab = new NetnsLab('wx');
  const s = lab.subnetIndex;
  const underlayRoot = `198.18.${s}.1`;
  const underlayNs = `198.18.${s}.2`;
  const overlayMine = `198.19.${s}.1`;
  const overlayKernel = `198.19.${s}.2`;
  const dir = mkdtempSync(join(tmpdir(), 'weft-vxlan-interop-'));
  const pcapPath = join(dir, 'outer.pcap');
  let ns = '';
  let vtep: Vtep | undefined;
  let endpoint: Endpoint;
  let writer: PcapWriter | undefined;
  let capture: OuterCapture | undefined;
  let peer: ChildProcess | undefined;

  beforeAll(async () => {
    ns = lab.addNamespace();
    const veth = lab.addVeth(ns, `${underlayRoot}/30`, `${underlayNs}/30`);
    lab.exec(ns, 'ip', ['link', 'add', 'vx0', 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'remote', underlayRoot, 'local', underlayNs, 'dev', veth.nsName]);
    lab.exec(ns, 'ip', ['addr', 'add', `${overlayKernel}/24`, 'dev', 'vx0']);
    lab.exec(ns, 'ip', ['link', 'set', 'vx0', 'up']);

    // A pool of source ports, so our outer packets leave from a per-flow port in 49152–65535 (RFC 7348 §5).
    const underlay = await UdpUnderlay.bind({ host: underlayRoot, port: 4789, sourcePorts: 8 });
    // The kernel sends from a flow-hash source port, so learned entries point at its dstport 4789.
    vtep = new Vtep({ underlay, learning: true, learnedPort: 4789 });
    writer = PcapWriter.toFile(pcapPath);
    capture = captureOuter(vtep, writer);
    const segment = vtep.addSegment(VNI, { flood: [{ host: underlayNs, port: 4789 }] });
    endpoint = new Endpoint({ mac: '02:57:45:46:54:01', ip: overlayMine }).attach(segment);
  });

  afterAll(async () => {
    try {
      peer?.stdin?.end();
      capture?.stop();
      writer?.close();
      await endpoint?.close();
      await vtep?.close();
    } finally {
      lab.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lab.liveNamespaces).toEqual([]);
  });

  it('kernel ping reaches the userspace Endpoint', async () => {
    const out = await lab.execAsync(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', overlayMine]);
    expect(out).toMatch(/3 packets transmitted, 3 received/);
    expect(endpoint.counters.echoRequestsAnswered).toBe(3);
    // The kernel learned our Endpoint's MAC behind our VTEP from the packets we sent.
    const fdb = lab.exec(ns, 'bridge', ['fdb', 'show', 'dev', 'vx0']);
    expect(fdb).toMatch(new RegExp(`02:57:45:46:54:01 dst ${underlayRoot.replace(/\./g, '\\.')}\\b`));
    // And our VTEP learned the kernel's vx0 MAC behind 198.18.S.2:4789.
    const kernelMac = lab.exec(ns, 'cat', ['/sys/class/net/vx0/address']).trim();
    expect(vtep!.segment(VNI)!.fdbEntries().find((e) => e.mac === kernelMac)?.target).toEqual({ kind: 'remote', address: { host: underlayNs, port: 4789 } });
  });

  it('Endpoint.ping() gets echo replies from the kernel', async () => {
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) rtts.push(await endpoint.ping(overlayKernel, { timeoutMs: 3000 }));
    expect(rtts).toHaveLength(3);
    for (const r of rtts) expect(r).toBeGreaterThan(0);
    const kernelMac = lab.exec(ns, 'cat', ['/sys/class/net/vx0/address']).trim();
    expect(endpoint.neighbours().find((n) => n.ip === overlayKernel)?.mac).toBe(kernelMac);
  });

  it('UDP datagrams cross both ways intact (node:dgram peer in the namespace)', async () => {
    peer = lab.spawn(ns, process.execPath, ['-e', PEER_SCRIPT, overlayKernel, '5555']);
    const lines = createInterface({ input: peer.stdout! });
    const received: Array<{ from: string; port: number; hex: string }> = [];
    const ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('peer did not start')), 10_000);
      lines.on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(t);
          resolve();
        } else received.push(JSON.parse(line) as { from: string; port: number; hex: string });
      });
    });
    await ready;
    const socket = endpoint.bind(6000);
    const replies: Array<{ data: Buffer; address: string; port: number }> = [];
    socket.on('message', (data: Uint8Array, rinfo: { address: string; port: number }) => replies.push({ data: Buffer.from(data), ...rinfo }));
    const payloads = [Buffer.from('hello kernel'), randomBytes(1300), randomBytes(1)];
    for (const p of payloads) socket.send(p, overlayKernel, 5555);
    const deadline = Date.now() + 10_000;
    while (replies.length < payloads.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    socket.close();
    expect(received.map((r) => r.hex)).toEqual(payloads.map((p) => p.toString('hex')));
    for (const r of received) expect(r).toMatchObject({ from: overlayMine, port: 6000 });
    expect(replies.map((r) => r.data.toString('hex'))).toEqual(payloads.map((p) => Buffer.concat([Buffer.from('echo:'), p]).toString('hex')));
    for (const r of replies) expect(r).toMatchObject({ address: overlayKernel, port: 5555 });
    expect(vtep!.counters.rxDropped).toBe(0);
  });

  describeWith(commandCapability('tshark', ['-v']), 'tshark on the capture', () => {
    it('decodes the VNI and the inner ARP and ICMP of the outer traffic', () => {
      capture!.stop();
      writer!.close();
      writer = undefined;
      expect(capture!.written).toBeGreaterThan(10);
      const out = execFileSync(
        'tshark',
        ['-r', pcapPath, '-T', 'fields', '-E', 'separator=|', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'vxlan.vni', '-e', 'arp.opcode', '-e', 'icmp.type', '-e', 'ip.src'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const rows = out.trim().split('\n').map((l) => l.split('|'));
      expect(rows.length).toBe(capture!.written);
      // Every packet is VXLAN with our VNI.
      for (const r of rows) expect(r[2]).toBe(String(VNI));
      // The inner ARP request and reply, and the ICMP echo requests (8) and replies (0).
      const arpOps = new Set(rows.map((r) => r[3]).filter((x) => x));
      expect(arpOps).toEqual(new Set(['1', '2']));
      const icmpTypes = rows.map((r) => r[4]).filter((x) => x);
      expect(icmpTypes.filter((t) => t === '8').length).toBeGreaterThanOrEqual(6);
      expect(icmpTypes.filter((t) => t === '0').length).toBeGreaterThanOrEqual(6);
      // Packets we sent left from a per-flow source port of the pool, in 49152–65535.
      const sent = rows.filter((r) => r[1] === '4789' && r[5]?.startsWith(underlayRoot));
      expect(sent.length).toBeGreaterThan(0);
      for (const r of sent) expect(Number(r[0])).toBeGreaterThanOrEqual(49152);
    });
  });
});

/**
 * The Docker way: no learning and no ARP on the wire. The kernel side is
 * programmed like Docker's overlay driver does it (vxlan `nolearning proxy`,
 * static FDB entry and permanent neighbour for our Endpoint); our side by
 * `addRemoteEndpoint` (FDB + neighbour + flood list), learning off.
 */
describeWith(netnsCapability(), 'kernel vxlan interop, statically programmed (nolearning, ARP suppression on both sides)', () => {
  const lab = new NetnsLab('wy');
  const s = lab.subnetIndex;
  const underlayRoot = `198.18.${s}.1`;
  const underlayNs = `198.18.${s}.2`;
  const overlayMine = `198.19.${s}.1`;
  const overlayKernel = `198.19.${s}.2`;
  const kernelMac = '02:4b:00:00:00:02';
  const myMac = '02:57:45:46:54:02';
  let ns = '';
  let vtep: Vtep | undefined;
  let endpoint: Endpoint | undefined;

  beforeAll(async () => {
    ns = lab.addNamespace();
    const veth = lab.addVeth(ns, `${underlayRoot}/30`, `${underlayNs}/30`);
    lab.exec(ns, 'ip', ['link', 'add', 'vx0', 'address', kernelMac, 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'local', underlayNs, 'dev', veth.nsName, 'nolearning', 'proxy']);
    lab.exec(ns, 'ip', ['addr', 'add', `${overlayKernel}/24`, 'dev', 'vx0']);
    lab.exec(ns, 'ip', ['link', 'set', 'vx0', 'up']);
    lab.exec(ns, 'bridge', ['fdb', 'add', myMac, 'dev', 'vx0', 'dst', underlayRoot, 'self', 'permanent']);
    lab.exec(ns, 'ip', ['neigh', 'add', overlayMine, 'lladdr', myMac, 'dev', 'vx0', 'nud', 'permanent']);

    vtep = new Vtep({ underlay: await UdpUnderlay.bind({ host: underlayRoot, port: 4789 }) });
    const segment = vtep.addSegment(VNI);
    segment.addRemoteEndpoint({ mac: kernelMac, ip: overlayKernel, vtep: { host: underlayNs, port: 4789 } });
    endpoint = new Endpoint({ mac: myMac, ip: overlayMine }).attach(segment);
  });

  afterAll(async () => {
    try {
      await endpoint?.close();
      await vtep?.close();
    } finally {
      lab.cleanup();
    }
  });

  it('pings both ways with no ARP on the wire', async () => {
    const out = await lab.execAsync(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', overlayMine]);
    expect(out).toMatch(/2 packets transmitted, 2 received/);
    await expect(endpoint!.ping(overlayKernel, { timeoutMs: 3000 })).resolves.toBeGreaterThan(0);
    const c = vtep!.counters;
    expect(c.flooded).toBe(0);
    expect(c.txPackets).toBe(3); // two echo replies and one echo request, nothing else
    expect(c.rxPackets).toBe(3);
    expect(c.rxDropped).toBe(0);
  });
});

/** The same exchange over an IPv6 underlay (documentation prefix 2001:db8::/32, inside our veth only). */
describeWith(netnsCapability(), 'kernel vxlan interop over an IPv6 underlay', () => {
  const lab = new NetnsLab('wz');
  const s = lab.subnetIndex;
  // RFC 5952 form, as node:dgram reports a sender (subnet 0 gives 2001:db8:57::2, not 2001:db8:57:0::2).
  const underlayRoot = formatIpv6(parseIpv6(`2001:db8:57:${s.toString(16)}::1`));
  const underlayNs = formatIpv6(parseIpv6(`2001:db8:57:${s.toString(16)}::2`));
  const overlayMine = `198.19.${s}.1`;
  const overlayKernel = `198.19.${s}.2`;
  let ns = '';
  let vtep: Vtep | undefined;
  let endpoint: Endpoint | undefined;

  beforeAll(async () => {
    ns = lab.addNamespace();
    const veth = lab.addVeth(ns, `198.18.${s}.1/30`, `198.18.${s}.2/30`);
    lab.ip('addr', 'add', `${underlayRoot}/64`, 'dev', veth.rootName, 'nodad');
    lab.exec(ns, 'ip', ['addr', 'add', `${underlayNs}/64`, 'dev', veth.nsName, 'nodad']);
    lab.exec(ns, 'ip', ['link', 'add', 'vx0', 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'remote', underlayRoot, 'local', underlayNs, 'dev', veth.nsName]);
    lab.exec(ns, 'ip', ['addr', 'add', `${overlayKernel}/24`, 'dev', 'vx0']);
    lab.exec(ns, 'ip', ['link', 'set', 'vx0', 'up']);
    vtep = new Vtep({ underlay: await UdpUnderlay.bind({ host: underlayRoot, port: 4789 }), learning: true, learnedPort: 4789 });
    const segment = vtep.addSegment(VNI, { flood: [{ host: underlayNs, port: 4789 }] });
    endpoint = new Endpoint({ mac: '02:57:45:46:54:06', ip: overlayMine }).attach(segment);
  });

  afterAll(async () => {
    try {
      await endpoint?.close();
      await vtep?.close();
    } finally {
      lab.cleanup();
    }
  });

  it('pings both ways across the kernel device', async () => {
    const out = await lab.execAsync(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', overlayMine]);
    expect(out).toMatch(/2 packets transmitted, 2 received/);
    await expect(endpoint!.ping(overlayKernel, { timeoutMs: 3000 })).resolves.toBeGreaterThan(0);
    const kernelMac = lab.exec(ns, 'cat', ['/sys/class/net/vx0/address']).trim();
    expect(vtep!.segment(VNI)!.fdbEntries().find((e) => e.mac === kernelMac)?.target).toEqual({ kind: 'remote', address: { host: underlayNs, port: 4789 } });
    expect(vtep!.counters.rxDropped).toBe(0);
  });
});
