/**
 * EncryptedUnderlay over the real UdpUnderlay under a real Vtep: two hosts on
 * loopback (127.0.0.1, 127.0.0.2), each `new Vtep({ underlay: new
 * EncryptedUnderlay({ underlay: udp, ... }) })`, endpoints on VNI 42 pinging
 * and exchanging UDP through it. Cleartext VXLAN aimed at the receiving host
 * — from a stranger's address and from the peer's own address and port — is
 * dropped and counted, never delivered; the same bytes sent to a plain Vtep
 * are delivered, so the injected packet is a valid one.
 */
import { createSocket, type Socket } from 'node:dgram';
import { EncryptedUnderlay, KeyRing, type EncryptedUnderlayCounters, type SuiteName } from '@weft/crypto';
import { parseIpv4, parseMac } from '@weft/interface';
import { Endpoint, UdpUnderlay, Vtep, vxlanHeader, writeUdpFrame, type EndpointUdpSocket } from '@weft/vxlan';

const VNI = 42;
const APP_PORT = 7000;
const ALICE = { mac: '02:00:00:00:00:01', ip: '10.0.0.1' };
const BOB = { mac: '02:00:00:00:00:02', ip: '10.0.0.2' };

interface Host {
  /** This node's epoch (16 hex digits): part of every pair key to and from it. */
  epoch: string;
  udp: UdpUnderlay;
  enc: EncryptedUnderlay;
  vtep: Vtep;
  ep: Endpoint;
  sock: EndpointUdpSocket;
  got: string[];
}

async function host(id: string, ip: string, suite: SuiteName, sourcePorts: number, mac: typeof ALICE): Promise<Host> {
  const udp = await UdpUnderlay.bind({ host: ip, port: 0, reuseAddr: true, sourcePorts });
  const epoch = id === 'node-a' ? '00000000000000a1' : '00000000000000b2';
  const enc = new EncryptedUnderlay({ underlay: udp, keyRing: new KeyRing({ secret: new Uint8Array(32).fill(9), suite }), localId: id, localEpoch: epoch });
  const vtep = new Vtep({ underlay: enc });
  const ep = new Endpoint({ ...mac, arpTimeoutMs: 200, arpRetries: 2 }).attach(vtep.addSegment(VNI));
  const sock = ep.bind(APP_PORT);
  const got: string[] = [];
  sock.on('message', (data: Uint8Array) => got.push(Buffer.from(data).toString()));
  return { epoch, udp, enc, vtep, ep, sock, got };
}

/** A cleartext VXLAN packet (VNI 42) carrying a UDP datagram from Alice to Bob's APP_PORT. */
function cleartextToBob(text: string): Buffer {
  const frame = writeUdpFrame(
    { dstMac: parseMac(BOB.mac), srcMac: parseMac(ALICE.mac), srcIp: parseIpv4(ALICE.ip), dstIp: parseIpv4(BOB.ip), id: 1, ttl: 64, srcPort: APP_PORT, dstPort: APP_PORT, checksum: true },
    Buffer.from(text),
  );
  return Buffer.concat([vxlanHeader.encode({ vni: VNI }), frame]);
}

async function injector(host: string, port: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => s.bind(port, host, r));
  return s;
}

const send = (s: Socket, b: Buffer, to: { host: string; port: number }): Promise<void> =>
  new Promise((resolve, reject) => s.send(b, to.port, to.host, (err) => (err ? reject(err) : resolve())));

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

const noDrops: Partial<EncryptedUnderlayCounters> = { txNoPeer: 0, rxUnknownPeer: 0, rxMalformed: 0, rxUnknownSpi: 0, rxAuthFailed: 0, rxReplayed: 0 };

describe.each([
  ['aes-256-gcm', 0],
  ['xsalsa20-poly1305', 0],
  ['aes-256-gcm', 4],
] as const)('EncryptedUnderlay (%s) over UdpUnderlay (sourcePorts %i) under Vtep', (suite, sourcePorts) => {
  let a: Host;
  let b: Host;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    a = await host('node-a', '127.0.0.1', suite, sourcePorts, ALICE);
    b = await host('node-b', '127.0.0.2', suite, sourcePorts, BOB);
    a.enc.addPeer('node-b', b.udp.local, b.epoch);
    b.enc.addPeer('node-a', a.udp.local, a.epoch);
    // Control plane: each endpoint lives behind the other VTEP (FDB + neighbour entries).
    a.vtep.segment(VNI)!.addRemoteEndpoint({ ...BOB, vtep: b.vtep.local });
    b.vtep.segment(VNI)!.addRemoteEndpoint({ ...ALICE, vtep: a.vtep.local });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const h of [a, b]) {
      if (!h) continue;
      await h.ep.close();
      await h.vtep.close(); // closes the EncryptedUnderlay and the UdpUnderlay under it
    }
  });

  it('endpoints ping and exchange UDP through it; every packet on the wire was sealed and opened', async () => {
    const rtt = await a.ep.ping(BOB.ip, { timeoutMs: 2000 });
    expect(rtt).toBeGreaterThanOrEqual(0);
    await b.ep.ping(ALICE.ip, { timeoutMs: 2000 });
    a.sock.send(Buffer.from('hello bob'), BOB.ip, APP_PORT);
    b.sock.send(Buffer.from('hello alice'), ALICE.ip, APP_PORT);
    await until(() => b.got.length > 0 && a.got.length > 0);
    expect(b.got).toEqual(['hello bob']);
    expect(a.got).toEqual(['hello alice']);
    for (const h of [a, b]) {
      const c = h.enc.counters;
      expect(c).toMatchObject(noDrops);
      expect(c.txPackets).toBeGreaterThanOrEqual(3);
      expect(c.rxPackets).toBeGreaterThanOrEqual(3);
      // What the UDP socket received is exactly what the EncryptedUnderlay opened.
      expect(h.udp.counters.received).toBe(c.rxPackets);
    }
  });

  it('drops cleartext VXLAN from a stranger and from the peer’s own address, delivering nothing', async () => {
    const before = { enc: b.enc.counters, vtepRx: b.vtep.counters.rxPackets, got: b.got.length };
    const stranger = await injector('127.0.0.3', 0);
    const spoofed = await injector(a.udp.local.host, a.udp.local.port); // SO_REUSEADDR: same address and port as node-a
    sockets.push(stranger, spoofed);
    await send(stranger, cleartextToBob('injected from a stranger'), b.udp.local);
    await send(spoofed, cleartextToBob('injected as node-a'), b.udp.local);
    // A real message sent afterwards arrives: the injected ones, sent first, had their chance.
    a.sock.send(Buffer.from('still encrypted'), BOB.ip, APP_PORT);
    await until(() => b.got.length > before.got);
    expect(b.got.slice(before.got)).toEqual(['still encrypted']);
    const after = b.enc.counters;
    expect(after.rxUnknownPeer - before.enc.rxUnknownPeer).toBe(1);
    expect(after.rxUnknownSpi - before.enc.rxUnknownSpi).toBe(1);
    expect(after.rxPackets - before.enc.rxPackets).toBe(1);
    expect(b.vtep.counters.rxPackets - before.vtepRx).toBe(1);
  });

  it('control: the same cleartext packet is delivered by a plain (unencrypted) Vtep', async () => {
    const plain = new Vtep({ underlay: await UdpUnderlay.bind({ host: '127.0.0.4', port: 0 }) });
    const bob = new Endpoint(BOB).attach(plain.addSegment(VNI));
    const got: string[] = [];
    bob.bind(APP_PORT).on('message', (d: Uint8Array) => got.push(Buffer.from(d).toString()));
    const s = await injector('127.0.0.3', 0);
    sockets.push(s);
    try {
      await send(s, cleartextToBob('plain delivery'), plain.local);
      await until(() => got.length > 0);
      expect(got).toEqual(['plain delivery']);
    } finally {
      await bob.close();
      await plain.close();
    }
  });
});
