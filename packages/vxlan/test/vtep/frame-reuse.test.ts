/**
 * An endpoint behind a VTEP writes its next datagram into the bytes of the
 * last one only when the underlay released them (`ReleasingUnderlay`): these
 * tests send bursts of distinct datagrams synchronously, so any reuse of bytes
 * still held somewhere would show as a corrupted or duplicated payload.
 */
import { UnderlayClosedError, type SocketAddress, type Underlay } from '@weft/interface';
import { Endpoint, MemoryNetwork, UdpUnderlay, Vtep, udp, ipv4, ethernet, vxlanHeader, type ReleasingUnderlay } from '../../src';

const A = { mac: '02:00:00:00:00:01', ip: '10.0.0.1' };
const B = { mac: '02:00:00:00:00:02', ip: '10.0.0.2' };

/** Payload of datagram `n`: its number, then bytes derived from it. */
function payload(n: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, n);
  for (let i = 4; i < size; i++) p[i] = (n * 31 + i * 7) & 0xff;
  return p;
}

/** Decodes an outer packet down to the UDP payload, verifying the IPv4 and UDP checksums. */
function innerPayload(packet: Uint8Array): Uint8Array {
  const eth = ethernet.decode(packet, vxlanHeader.encodingLength({ vni: 0 })).value;
  const ip = ipv4.decode(eth.payload).value;
  return udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst }).value.payload;
}

/** A sending-only underlay that records what it is given; `release` says what sendReleasing answers. */
class RecordingUnderlay implements ReleasingUnderlay {
  readonly local: SocketAddress = { host: '127.0.0.1', port: 1 };
  /** The packets as given (views, not copies) and copies taken at send time. */
  readonly given: Uint8Array[] = [];
  readonly copies: Uint8Array[] = [];
  constructor(private readonly release: boolean) {}
  send(packet: Uint8Array): void {
    this.given.push(packet);
    this.copies.push(packet.slice());
  }
  sendReleasing(packet: Uint8Array): boolean {
    this.send(packet);
    return this.release;
  }
  onReceive(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function sender(underlay: Underlay, peer: SocketAddress): Promise<{ vtep: Vtep; ep: Endpoint }> {
  const vtep = new Vtep({ underlay });
  const seg = vtep.addSegment(7);
  seg.addRemoteEndpoint({ mac: B.mac, ip: B.ip, vtep: peer });
  const ep = new Endpoint(A).attach(seg);
  await ep.resolveMac(B.ip); // ARP suppression answers locally
  return { vtep, ep };
}

describe('frame reuse after a released send', () => {
  it('an underlay that does not release (sendReleasing false) never sees its packets overwritten', async () => {
    const u = new RecordingUnderlay(false);
    const { vtep, ep } = await sender(u, { host: '127.0.0.2', port: 2 });
    const sock = ep.bind(5000);
    for (let n = 0; n < 300; n++) sock.send(payload(n, 200 + (n % 3)), B.ip, 6000);
    expect(u.given).toHaveLength(300);
    u.given.forEach((p, n) => expect(Buffer.from(p).equals(Buffer.from(u.copies[n]!))).toBe(true));
    u.given.forEach((p, n) => expect(Buffer.from(innerPayload(p)).equals(Buffer.from(payload(n, 200 + (n % 3))))).toBe(true));
    await ep.close();
    await vtep.close();
  });

  it('an underlay that releases gets the same bytes back for same-sized datagrams, each correct when sent', async () => {
    const u = new RecordingUnderlay(true);
    const { vtep, ep } = await sender(u, { host: '127.0.0.2', port: 2 });
    const sock = ep.bind(5000);
    for (let n = 0; n < 50; n++) sock.send(payload(n, 300), B.ip, 6000);
    sock.send(payload(50, 301), B.ip, 6000); // another size: fresh bytes
    sock.send(payload(51, 301), B.ip, 6000);
    expect(u.copies.map((p) => new DataView(innerPayload(p).buffer, innerPayload(p).byteOffset).getUint32(0))).toEqual([...Array(52).keys()]);
    u.copies.forEach((p, n) => expect(Buffer.from(innerPayload(p)).equals(Buffer.from(payload(n, n < 50 ? 300 : 301)))).toBe(true));
    // Reused: one buffer for the first 50, another from datagram 50 on.
    expect(new Set(u.given.slice(0, 50).map((p) => p.buffer)).size).toBe(1);
    expect(u.given[49]!.byteOffset).toBe(u.given[0]!.byteOffset);
    expect(u.given[50]!.byteOffset === u.given[0]!.byteOffset && u.given[50]!.buffer === u.given[0]!.buffer).toBe(false);
    expect(u.given[51]!.buffer).toBe(u.given[50]!.buffer);
    await ep.close();
    await vtep.close();
  });

  it('a wrapper around a UdpUnderlay (no sendReleasing) keeps every packet intact', async () => {
    const inner = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
    const held: Uint8Array[] = [];
    const wrapper: Underlay = {
      local: inner.local,
      send: (p, to, h) => {
        held.push(p);
        inner.send(p, to, h);
      },
      onReceive: (h) => inner.onReceive(h),
      close: () => inner.close(),
    };
    const { vtep, ep } = await sender(wrapper, { host: '127.0.0.2', port: 9 });
    const sock = ep.bind(5000);
    for (let n = 0; n < 200; n++) sock.send(payload(n, 400), B.ip, 6000);
    held.forEach((p, n) => expect(Buffer.from(innerPayload(p)).equals(Buffer.from(payload(n, 400)))).toBe(true));
    await ep.close();
    await vtep.close();
  });

  it('over MemoryNetwork (delivery later, no release) a burst arrives intact', async () => {
    const net = new MemoryNetwork();
    const ua = net.attach({ host: '10.1.0.1', port: 4789 });
    const ub = net.attach({ host: '10.1.0.2', port: 4789 });
    const { vtep, ep } = await sender(ua, ub.local);
    const vb = new Vtep({ underlay: ub });
    const eb = new Endpoint(B).attach(vb.addSegment(7));
    const got: Uint8Array[] = [];
    eb.bind(6000).on('message', (d: Uint8Array) => got.push(d.slice()));
    const sock = ep.bind(5000);
    for (let n = 0; n < 300; n++) sock.send(payload(n, 256), B.ip, 6000);
    await net.flush();
    expect(got).toHaveLength(300);
    got.forEach((d, n) => expect(Buffer.from(d).equals(Buffer.from(payload(n, 256)))).toBe(true));
    await Promise.all([ep.close(), eb.close()]);
    await Promise.all([vtep.close(), vb.close()]);
  });

  it('UdpUnderlay.sendReleasing: true for a datagram the kernel took, counted like send; UnderlayClosedError after close', async () => {
    const u = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
    expect(u.sendReleasing(new Uint8Array(32), { host: '127.0.0.1', port: u.local.port })).toBe(true);
    u.send(new Uint8Array(32), { host: '127.0.0.1', port: u.local.port });
    expect(u.counters.sent).toBe(2);
    await u.close();
    expect(() => u.sendReleasing(new Uint8Array(32), { host: '127.0.0.1', port: 9 })).toThrow(UnderlayClosedError);
  });

  it('over real UDP sockets (UdpUnderlay releases), a synchronous burst arrives intact with valid checksums', async () => {
    const ua = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0, sendBufferSize: 1 << 22 });
    const ub = await UdpUnderlay.bind({ host: '127.0.0.2', port: 0, recvBufferSize: 1 << 22 });
    expect(ua.sendReleasing(new Uint8Array(16), { host: '127.0.0.2', port: 9 })).toBe(true);
    const { vtep, ep } = await sender(ua, ub.local);
    const vb = new Vtep({ underlay: ub });
    const eb = new Endpoint(B).attach(vb.addSegment(7));
    const seen = new Map<number, boolean>();
    let bad = 0;
    vb.onOuter((p) => {
      const data = innerPayload(p.packet); // throws (and is counted by the VTEP as nothing) on a bad checksum
      const n = new DataView(data.buffer, data.byteOffset).getUint32(0);
      if (seen.has(n) || !Buffer.from(data).equals(Buffer.from(payload(n, 1000)))) bad++;
      seen.set(n, true);
    });
    let delivered = 0;
    eb.bind(6000).on('message', () => delivered++);
    const sock = ep.bind(5000);
    const N = 2000;
    for (let n = 0; n < N; n++) sock.send(payload(n, 1000), B.ip, 6000);
    const deadline = Date.now() + 5000;
    while (delivered < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(bad).toBe(0);
    expect(delivered).toBeGreaterThan(N * 0.9); // loopback may drop a few under load, never corrupt them
    expect(seen.size).toBe(delivered);
    await Promise.all([ep.close(), eb.close()]);
    await Promise.all([vtep.close(), vb.close()]);
  });
});
