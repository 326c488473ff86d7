import { Endpoint, MemoryNetwork, Vtep, ethernet, type Port, type PortLink } from '../../src';

/** A port that records every frame it gets. */
class Probe implements Port {
  frames: Uint8Array[] = [];
  link: PortLink | undefined;
  constructor(readonly mac: string) {}
  receive(frame: Uint8Array): void {
    this.frames.push(frame);
  }
  attached(link: PortLink): void {
    this.link = link;
  }
}

describe('head-end replication', () => {
  it('keeps one flood-list entry per remote VTEP, comparing IPv6 hosts canonically', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const a = new Vtep({ underlay: net.attach({ host: '2001:db8::1', port: 4789 }) });
    const b = new Vtep({ underlay: net.attach({ host: '2001:db8::2', port: 4789 }) });
    const seg = a.addSegment(9, { flood: [{ host: '2001:db8::2', port: 4789 }, { host: '2001:DB8:0:0::2', port: 4789 }] });
    seg.addFloodTarget({ host: '2001:0db8::0002', port: 4789 });
    seg.addFloodTarget({ host: '2001:db8::2', port: 4790 }); // another port is another VTEP
    expect(seg.floodList).toEqual([
      { host: '2001:db8::2', port: 4789 },
      { host: '2001:db8::2', port: 4790 },
    ]);
    const got: Uint8Array[] = [];
    b.addSegment(9).attach({ mac: '02:00:00:00:00:02', receive: (f) => got.push(f) });
    const sender = new Probe('02:00:00:00:00:01');
    seg.attach(sender);
    sender.link!.transmit(ethernet.encode({ dst: 'ff:ff:ff:ff:ff:ff', src: sender.mac, etherType: 0x88b5, payload: Uint8Array.of(7) }));
    net.flush();
    expect(got).toHaveLength(1); // one copy, not one per spelling
    expect(seg.removeFloodTarget({ host: '2001:db8:0::2', port: 4789 })).toBe(true);
    expect(seg.floodList).toEqual([{ host: '2001:db8::2', port: 4790 }]);
    await Promise.all([a.close(), b.close()]);
  });

  it('sends one copy of a broadcast to each VTEP of the flood list and to every other local port', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const vteps = [1, 2, 3].map((i) => new Vtep({ underlay: net.attach({ host: `10.0.0.${i}`, port: 4789 }) }));
    const segs = vteps.map((v) => v.addSegment(9));
    for (const s of segs) for (const v of vteps) if (v.segment(9) !== s) s.addFloodTarget(v.local);
    const sender = new Probe('02:00:00:00:00:01');
    const sameHost = new Probe('02:00:00:00:00:02');
    const remote2 = new Probe('02:00:00:00:00:03');
    const remote3 = new Probe('02:00:00:00:00:04');
    segs[0]!.attach(sender);
    segs[0]!.attach(sameHost);
    segs[1]!.attach(remote2);
    segs[2]!.attach(remote3);
    try {
      const frame = ethernet.encode({ dst: 'ff:ff:ff:ff:ff:ff', src: sender.mac, etherType: 0x88b5, payload: Uint8Array.of(1, 2, 3) });
      sender.link!.transmit(frame);
      net.flush();
      await Promise.resolve();
      expect(vteps[0]!.counters).toMatchObject({ flooded: 1, txPackets: 2 });
      for (const p of [sameHost, remote2, remote3]) {
        expect(p.frames).toHaveLength(1);
        expect([...p.frames[0]!]).toEqual([...frame]);
      }
      expect(sender.frames).toHaveLength(0); // never back to the sender
      // Received floods are not re-flooded to other VTEPs (split horizon).
      expect(vteps[1]!.counters.txPackets).toBe(0);
      expect(vteps[2]!.counters.txPackets).toBe(0);
      // Each receiver owns its copy.
      sameHost.frames[0]![14] = 0xff;
      expect(remote2.frames[0]![14]).toBe(1);
    } finally {
      await Promise.all(vteps.map((v) => v.close()));
    }
  });

  it('floods unknown unicast, then sends unicast once the FDB knows the MAC', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const a = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), learning: true });
    const b = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), learning: true });
    const c = new Vtep({ underlay: net.attach({ host: '10.0.0.3', port: 4789 }), learning: true });
    const sa = a.addSegment(1, { flood: [b.local, c.local] });
    b.addSegment(1, { flood: [a.local, c.local] });
    c.addSegment(1, { flood: [a.local, b.local] });
    const pa = new Probe('02:00:00:00:00:0a');
    const pb = new Probe('02:00:00:00:00:0b');
    sa.attach(pa);
    b.segment(1)!.attach(pb);
    try {
      const toB = ethernet.encode({ dst: pb.mac, src: pa.mac, etherType: 0x88b5, payload: new Uint8Array(10) });
      pa.link!.transmit(toB);
      net.flush();
      expect(a.counters).toMatchObject({ flooded: 1, txPackets: 2 });
      expect(c.counters.drops['no-fdb-entry']).toBe(1); // C has no port with that MAC
      expect(pb.frames).toHaveLength(1);
      // B answers; A learns B's MAC from it, so the next frame is unicast.
      pb.link!.transmit(ethernet.encode({ dst: pa.mac, src: pb.mac, etherType: 0x88b5, payload: new Uint8Array(10) }));
      net.flush();
      pa.link!.transmit(toB.slice());
      net.flush();
      expect(a.counters).toMatchObject({ flooded: 1, txPackets: 3 });
      expect(pb.frames).toHaveLength(2);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('Endpoint over a lossy, reordering network', () => {
  it('still resolves and pings thanks to ARP retries (seeded loss pattern)', async () => {
    const net = new MemoryNetwork({ seed: 99, loss: 0.3, reorder: 0.3, latencyMs: 1, jitterMs: 2 });
    const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), arpSuppression: false });
    const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), arpSuppression: false });
    const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '10.5.0.1', arpTimeoutMs: 20, arpRetries: 10 }).attach(va.addSegment(5, { flood: [vb.local] }));
    const b = new Endpoint({ mac: '02:00:00:00:00:0b', ip: '10.5.0.2' }).attach(vb.addSegment(5, { flood: [va.local] }));
    try {
      let ok = 0;
      for (let i = 0; i < 10; i++) {
        try {
          await a.ping(b.ip, { timeoutMs: 100 });
          ok++;
        } catch (err) {
          expect((err as Error).name).toBe('PingTimeoutError');
        }
      }
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThan(10); // with 30% loss each way, some pings must fail
      expect(net.counters.lost).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
    }
  });
});
