import { InvalidAddressError } from '@weft/interface';
import {
  Endpoint, InvalidOptionsError, VtepClosedError, MemoryNetwork, UdpUnderlay, UnderlayClosedError, Vtep, captureOuter, PcapWriter, readPcap, ethernet, ipv4, udp, vxlanHeader, type Underlay } from '../../src';

/**
 * An underlay that varies its source port per flow the simplest way (the port is
 * the flow hash itself) and records the hash each send was given.
 */
function perFlowPorts(inner: Underlay): Underlay & { hashes: (number | undefined)[] } {
  const hashes: (number | undefined)[] = [];
  return {
    hashes,
    local: inner.local,
    sourcePortFor: (flowHash) => flowHash,
    send(packet, to, flowHash) {
      hashes.push(flowHash);
      inner.send(packet, to, flowHash);
    },
    onReceive: (handler) => inner.onReceive(handler),
    close: () => inner.close(),
  };
}

describe('Vtep options and lifecycle', () => {
  it('rejects invalid options with the field named', () => {
    const underlay = new MemoryNetwork().attach();
    expect(() => new Vtep({ underlay, mtu: 20 })).toThrow(/Vtep: option "mtu"/);
    expect(() => new Vtep({ underlay: {} as never })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'underlay' }));
    const v = new Vtep({ underlay });
    expect(() => v.addSegment(1 << 24)).toThrow(/"vni" must be an integer in 0..16777215 \(got 16777216\)/);
    v.addSegment(5);
    expect(() => v.addSegment(5)).toThrow(InvalidOptionsError);
    expect(() => v.addSegment(6, { flood: [{ host: '10.0.0.1', port: -1 }] })).toThrow(/option "flood.0.port"/);
    const seg = v.segment(5)!;
    expect(() => seg.addFloodTarget({ host: 'vtep-b', port: 4789 })).toThrow(/flood target: option "host" must be an IPv4 or IPv6 literal \(got "vtep-b"\)/);
    expect(() => seg.addRemoteEndpoint({ mac: '02:00:00:00:00:09', vtep: { host: '10.0.0.9', port: 1e6 } })).toThrow(expect.objectContaining({ field: 'port' }));
    expect(() => seg.addRemoteMac('02:00:00:00:00', { host: '10.0.0.9', port: 4789 })).toThrow(InvalidAddressError);
    expect(() => seg.addNeighbour('10.0.0.300', '02:00:00:00:00:09')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADDRESS', kind: 'IP', text: '10.0.0.300' }));
  });

  it('refuses a second port with the same MAC', () => {
    const v = new Vtep({ underlay: new MemoryNetwork().attach() });
    const s = v.addSegment(1);
    new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).attach(s);
    expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.2' }).attach(s)).toThrow(/already attached/);
  });

  it('close() detaches ports, closes the underlay, is idempotent, and counts later frames as closed', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPWRAP').length;
    const before = udpHandles();
    const underlay = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
    expect(udpHandles()).toBe(before + 1);
    const v = new Vtep({ underlay });
    const s = v.addSegment(1, { flood: [{ host: '127.0.0.1', port: 9 }] });
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).attach(s);
    const link = s.attach({ mac: '02:00:00:00:00:02', receive: () => undefined });
    const p = v.close();
    expect(v.close()).toBe(p);
    await p;
    expect(s.ports).toEqual([]);
    expect(e.segment).toBeUndefined();
    expect(() => underlay.send(new Uint8Array(1), { host: '127.0.0.1', port: 9 })).toThrow(UnderlayClosedError);
    expect(udpHandles()).toBe(before);
    link.transmit(new Uint8Array(60));
    expect(v.counters.drops.detached).toBe(1);
    expect(() => v.addSegment(2)).toThrow(VtepClosedError);
    expect(() => v.addSegment(2)).toThrow(/^vtep 127\.0\.0\.1:\d+ is closed$/);
    expect(() => s.attach({ mac: '02:00:00:00:00:03', receive: () => undefined })).toThrow(expect.objectContaining({ code: 'ERR_VTEP_CLOSED', message: 'segment 1 is closed' }));
    await e.close();
  });

  it('reports the flow-hash source port of what it sends, and captures it to pcap', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const underlay = perFlowPorts(net.attach({ host: '10.0.0.1', port: 4789 }));
    const v = new Vtep({ underlay });
    const s = v.addSegment(77);
    s.addRemoteEndpoint({ mac: '02:00:00:00:00:02', ip: '10.7.0.2', vtep: { host: '10.0.0.2', port: 4789 } });
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.7.0.1' }).attach(s);
    const { writer, sink } = PcapWriter.toMemory({ clock: { now: () => 1_700_000_000_000 } });
    const cap = captureOuter(v, writer);
    const sources: number[] = [];
    v.onOuter((p) => sources.push(p.source.port));
    try {
      await e.resolveMac('10.7.0.2');
      const sock = e.bind(5000);
      sock.send(new Uint8Array(3), '10.7.0.2', 53);
      sock.send(new Uint8Array(3), '10.7.0.2', 53);
      sock.send(new Uint8Array(3), '10.7.0.2', 54);
      expect(cap.written).toBe(3);
      expect(sources[0]).toBe(sources[1]);
      for (const p of sources) expect(p).toBeGreaterThanOrEqual(49152);
      const rec = readPcap(sink.bytes()).records[0]!;
      const outerIp = ipv4.decode(ethernet.decode(rec.data).value.payload).value;
      expect([outerIp.src, outerIp.dst]).toEqual(['10.0.0.1', '10.0.0.2']);
      const outerUdp = udp.decode(outerIp.payload).value;
      expect([outerUdp.srcPort, outerUdp.dstPort]).toEqual([sources[0], 4789]);
      expect(vxlanHeader.decode(outerUdp.payload).value.vni).toBe(77);
      // The underlay was handed the same hash for each packet as the capture recorded.
      expect(underlay.hashes).toEqual(sources);
    } finally {
      cap.stop();
      writer.close();
      await Promise.all([e.close(), v.close()]);
    }
  });

  it('captures the bound port, and passes no flow hash, over an underlay with one source port', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const inner = net.attach({ host: '10.0.0.1', port: 4789 });
    const hashes: (number | undefined)[] = [];
    const underlay: Underlay = { local: inner.local, send: (p, to, h) => (hashes.push(h), inner.send(p, to)), onReceive: (h) => inner.onReceive(h), close: () => inner.close() };
    const v = new Vtep({ underlay });
    const s = v.addSegment(78);
    s.addRemoteEndpoint({ mac: '02:00:00:00:00:02', ip: '10.8.0.2', vtep: { host: '10.0.0.2', port: 4789 } });
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.8.0.1' }).attach(s);
    const sources: number[] = [];
    v.onOuter((p) => sources.push(p.source.port));
    try {
      await e.resolveMac('10.8.0.2');
      const sock = e.bind(5000);
      sock.send(new Uint8Array(3), '10.8.0.2', 53);
      sock.send(new Uint8Array(3), '10.8.0.2', 54);
      expect(sources).toEqual([4789, 4789]);
      expect(hashes).toEqual([undefined, undefined]);
    } finally {
      await Promise.all([e.close(), v.close()]);
    }
  });
});
