/**
 * The encrypted relay's dispatch, over real UDP sockets on loopback: two
 * relays (two "nodes") sealing for each other with the userspace plane's
 * `EncryptedUnderlay`; what the "kernel" of one sends comes out of the
 * other's kernel side opened, to the MAC's peer only or (broadcast, unknown
 * MAC) to every peer; malformed packets, unknown VNIs and unknown MACs are
 * counted; a packet that opens but names another VNI is dropped.
 */
import { UdpUnderlay } from '@weft/vxlan';
import { KeyPlanError } from '@weft/crypto';
import type { PeerNode, SocketAddress } from '@weft/interface';
import { EncryptedRelay, fillInnerChecksum, vniOf } from '../src/plane/relay';
import { until } from '../../../test-support/wait';

const keys = { suite: 'aes-256-gcm' as const, keys: [{ generation: 1, secret: new Uint8Array(32).fill(9) }], sendGeneration: 1 };
const MAC_B = '02:42:0a:00:00:02';
const MAC_C = '02:42:0a:00:00:03';

function vxlan(vni: number, dstMac: string, body = 'hello'): Uint8Array {
  const mac = Buffer.from(dstMac.replace(/:/g, ''), 'hex');
  return Buffer.concat([Buffer.from([0x08, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0]), mac, Buffer.from('020000000001', 'hex'), Buffer.from([0x88, 0xb5]), Buffer.from(body)]);
}

interface Node {
  readonly relay: EncryptedRelay;
  readonly peer: PeerNode;
  /** What this node's "kernel" (its VXLAN port) received. */
  readonly kernelGot: Uint8Array[];
  /** Sends as this node's kernel would: to the relay port. */
  readonly kernel: UdpUnderlay;
}

async function node(id: string, epoch: string): Promise<Node> {
  const kernel = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
  const kernelGot: Uint8Array[] = [];
  kernel.onReceive((p) => kernelGot.push(p));
  const kernelSide = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
  const peerSide = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
  const relay = EncryptedRelay.over({ nodeId: id, epoch, address: '127.0.0.1', vxlanPort: kernel.local.port, encryptedPort: peerSide.local.port }, kernelSide, peerSide);
  return { relay, kernel, kernelGot, peer: { id, address: '127.0.0.1', vxlanPort: kernel.local.port, encryptedPort: peerSide.local.port, epoch } };
}

describe('EncryptedRelay dispatch', () => {
  const nodes: Node[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await Promise.all([n.relay.close(), n.kernel.close()]);
  });

  it('seals for the MAC’s peer, floods broadcast and unknown MACs to every peer, counts what it drops', async () => {
    const [a, b, c] = await Promise.all([node('a', '00000000000000aa'), node('b', '00000000000000bb'), node('c', '00000000000000cc')]);
    nodes.push(a!, b!, c!);
    for (const n of [a!, b!, c!]) n.relay.setNetwork('net', 4242, keys);
    a!.relay.setRemote('net', 'ep-b', MAC_B, b!.peer);
    a!.relay.setRemote('net', 'ep-c', MAC_C, c!.peer);
    b!.relay.setRemote('net', 'ep-a', '02:42:0a:00:00:01', a!.peer);
    c!.relay.setRemote('net', 'ep-a', '02:42:0a:00:00:01', a!.peer);
    const relayPort: SocketAddress = { host: '127.0.0.1', port: a!.relay.relayPort };

    // unicast: to b only, opened there and handed to b's kernel unchanged
    a!.kernel.send(vxlan(4242, MAC_B, 'to b'), relayPort);
    await until(() => b!.kernelGot.length === 1, 'b to get the frame');
    expect(Buffer.from(b!.kernelGot[0]!).toString()).toContain('to b');
    expect(vniOf(b!.kernelGot[0]!)).toBe(4242);
    // broadcast and an unknown MAC: every peer
    a!.kernel.send(vxlan(4242, 'ff:ff:ff:ff:ff:ff', 'bcast'), relayPort);
    a!.kernel.send(vxlan(4242, '02:42:0a:00:00:99', 'unknown'), relayPort);
    await until(() => b!.kernelGot.length === 3 && c!.kernelGot.length === 2, 'the floods');
    // malformed (short, no I flag) and an unknown VNI: dropped, counted
    a!.kernel.send(new Uint8Array(10), relayPort);
    a!.kernel.send(Uint8Array.from(vxlan(4242, MAC_B), (x, i) => (i === 0 ? 0 : x)), relayPort);
    a!.kernel.send(vxlan(7, MAC_B), relayPort);
    await until(() => a!.relay.counters.fromKernel === 6, 'a to read all six');
    expect(a!.relay.counters).toMatchObject({ fromKernel: 6, malformed: 2, unknownVni: 1, unknownMac: 1, noPeer: 0, sealed: 5 });
    expect(b!.relay.counters).toMatchObject({ fromPeers: 3, toKernel: 3, unclaimed: 0, vniMismatch: 0 });
    expect(c!.kernelGot.map((p) => Buffer.from(p).toString()).join()).not.toContain('to b');

    // cleartext VXLAN sent straight to an encrypted port: nobody's SAs accept it
    a!.kernel.send(vxlan(4242, MAC_B, 'cleartext'), { host: '127.0.0.1', port: b!.peer.encryptedPort });
    await until(() => b!.relay.counters.unclaimed === 1, 'b to drop the cleartext');
    expect(b!.kernelGot).toHaveLength(3);

    // a packet that opens under the network's keys but names another VNI is dropped at the receiver
    a!.relay.setNetwork('net', 4243, keys); // a's view moved to another VNI (b still expects 4242)
    a!.kernel.send(vxlan(4243, MAC_B, 'wrong vni'), relayPort);
    await until(() => b!.relay.counters.vniMismatch === 1, 'b to refuse the VNI');
    expect(b!.kernelGot).toHaveLength(3);

    // a network with no peer: counted, nothing sent
    c!.relay.removeRemote('net', 'ep-a');
    c!.kernel.send(vxlan(4242, 'ff:ff:ff:ff:ff:ff'), { host: '127.0.0.1', port: c!.relay.relayPort });
    await until(() => c!.relay.counters.noPeer === 1, 'c to count the frame with no peer');

    // not from the underlay address: dropped
    c!.relay.fromKernel(vxlan(4242, MAC_B), { host: '127.0.0.2', port: 1 });
    expect(c!.relay.counters.foreignSource).toBe(1);
  });

  it('follows key rotation, refuses a backwards one and a VNI another network has', async () => {
    const [a, b] = await Promise.all([node('a', '00000000000000aa'), node('b', '00000000000000bb')]);
    nodes.push(a!, b!);
    for (const n of [a!, b!]) n.relay.setNetwork('net', 10, keys);
    a!.relay.setRemote('net', 'ep-b', MAC_B, b!.peer);
    b!.relay.setRemote('net', 'ep-a', '02:42:0a:00:00:01', a!.peer);
    const two = { ...keys, keys: [...keys.keys, { generation: 2, secret: new Uint8Array(32).fill(7) }] };
    for (const n of [a!, b!]) n.relay.setNetwork('net', 10, two); // install 2 everywhere
    a!.relay.setNetwork('net', 10, { ...two, sendGeneration: 2 }); // a sends with 2
    a!.kernel.send(vxlan(10, MAC_B, 'gen 2'), { host: '127.0.0.1', port: a!.relay.relayPort });
    await until(() => b!.kernelGot.length === 1, 'b to open generation 2');
    expect(a!.relay.keysOf('net')?.sendGeneration).toBe(2);
    expect(() => a!.relay.setNetwork('net', 10, two)).toThrow(KeyPlanError); // back to send generation 1
    expect(() => a!.relay.setNetwork('other', 10, keys)).toThrow(/VNI 10 is carried for network net/);
  });

  it('fills in an inner TCP checksum left to offload', () => {
    const ip = Buffer.from('4500002c000140004006' + '0000' + '0a000001' + '0a000002', 'hex');
    const tcp = Buffer.from('c35000500000000100000000500220000000000001020304', 'hex'); // 20-byte header + 4 bytes, checksum 0
    const frame = Buffer.concat([Buffer.alloc(8), Buffer.from('02420a00000202420a0000010800', 'hex'), ip, tcp]);
    frame[0] = 0x08;
    fillInnerChecksum(frame);
    const l4 = 22 + 20;
    const sumOf = (buf: Buffer): number => {
      let s = 6 + 24 + 0x0a00 + 0x0001 + 0x0a00 + 0x0002;
      for (let i = 0; i < buf.length; i += 2) s += (buf[i]! << 8) + (buf[i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    expect(frame.readUInt16BE(l4 + 16)).not.toBe(0);
    expect(sumOf(frame.subarray(l4))).toBe(0xffff); // verifies
  });
});
