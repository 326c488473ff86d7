import { Endpoint, MemoryNetwork, Vtep, totalDrops } from '../../src';

/** Two VTEPs on one in-memory network, one segment each for VNI 100, programmed like a control plane would. */
async function twoHosts(opts: { arpSuppression?: boolean; program?: boolean } = {}) {
  const net = new MemoryNetwork({ seed: 7 });
  const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), arpSuppression: opts.arpSuppression ?? true });
  const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), arpSuppression: opts.arpSuppression ?? true });
  const sa = va.addSegment(100, { flood: [vb.local] });
  const sb = vb.addSegment(100, { flood: [va.local] });
  const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '192.168.0.10' }).attach(sa);
  const b = new Endpoint({ mac: '02:00:00:00:00:0b', ip: '192.168.0.11' }).attach(sb);
  if (opts.program !== false) {
    sa.addRemoteEndpoint({ mac: b.mac, ip: b.ip, vtep: vb.local });
    sb.addRemoteEndpoint({ mac: a.mac, ip: a.ip, vtep: va.local });
  }
  const close = async () => {
    await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
  };
  return { net, va, vb, sa, sb, a, b, close };
}

describe('Vtep over a MemoryNetwork', () => {
  it('pings across two VTEPs with ARP answered locally (suppression)', async () => {
    const t = await twoHosts();
    try {
      const rtt = await t.a.ping(t.b.ip);
      expect(rtt).toBeGreaterThanOrEqual(0);
      const ca = t.va.counters;
      expect(ca.arpSuppressed).toBe(1);
      expect(ca.flooded).toBe(0); // the ARP request never left the host
      expect(ca.txPackets).toBe(1); // the echo request
      expect(t.vb.counters.rxDelivered).toBe(1);
      expect(t.a.neighbours().map((n) => n.mac)).toEqual([t.b.mac]);
    } finally {
      await t.close();
    }
  });

  it('floods the ARP request to the flood list when suppression is off, then unicasts', async () => {
    const t = await twoHosts({ arpSuppression: false });
    try {
      await t.a.ping(t.b.ip);
      const ca = t.va.counters;
      expect(ca.arpSuppressed).toBe(0);
      expect(ca.flooded).toBe(1);
      expect(ca.txPackets).toBe(2); // ARP request (flood) + echo request
      expect(t.b.counters.echoRequestsAnswered).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('carries UDP datagrams both ways intact', async () => {
    const t = await twoHosts();
    try {
      const sb = t.b.bind(7000);
      sb.on('message', (data: Uint8Array, rinfo: { address: string; port: number }) => sb.send(Uint8Array.from(data).reverse(), rinfo.address, rinfo.port));
      const sa = t.a.bind(0);
      const got = new Promise<[Uint8Array, { address: string; port: number }]>((resolve) => sa.once('message', (d, r) => resolve([Uint8Array.from(d), r])));
      sa.send(new TextEncoder().encode('hello, segment'), t.b.ip, 7000);
      const [data, rinfo] = await got;
      expect(new TextDecoder().decode(data)).toBe('tnemges ,olleh');
      expect(rinfo).toMatchObject({ address: t.b.ip, port: 7000 });
    } finally {
      await t.close();
    }
  });

  it('learns remote MACs from received frames when learning is on, and ages them out', async () => {
    let now = 0;
    const clock = { now: () => now };
    const net = new MemoryNetwork({ seed: 1 });
    const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), learning: true, agingMs: 1000, clock, arpSuppression: false });
    const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), learning: true, agingMs: 1000, clock, arpSuppression: false });
    const sa = va.addSegment(5, { flood: [vb.local] });
    const sb = vb.addSegment(5, { flood: [va.local] });
    const a = new Endpoint({ mac: '02:00:00:00:01:0a', ip: '10.9.0.1', clock }).attach(sa);
    const b = new Endpoint({ mac: '02:00:00:00:01:0b', ip: '10.9.0.2', clock }).attach(sb);
    try {
      await a.ping(b.ip);
      const learned = sa.fdbEntries().find((e) => e.mac === b.mac);
      expect(learned).toMatchObject({ static: false, target: { kind: 'remote', address: { host: '10.0.0.2', port: 4789 } } });
      expect(sb.fdbEntries().find((e) => e.mac === a.mac)?.static).toBe(false);
      expect(va.counters.learned).toBeGreaterThanOrEqual(1);
      now += 1001;
      expect(sa.sweep()).toBe(1);
      expect(sa.fdbEntries().find((e) => e.mac === b.mac)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
    }
  });

  it('drops and counts inner frames over the MTU, never fragments', async () => {
    const net = new MemoryNetwork();
    const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), mtu: 1000 });
    const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), mtu: 1000 });
    const sa = va.addSegment(9);
    const sb = vb.addSegment(9);
    const a = new Endpoint({ mac: '02:00:00:00:02:0a', ip: '10.8.0.1' }).attach(sa);
    const b = new Endpoint({ mac: '02:00:00:00:02:0b', ip: '10.8.0.2' }).attach(sb);
    sa.addRemoteEndpoint({ mac: b.mac, ip: b.ip, vtep: vb.local });
    sb.addRemoteEndpoint({ mac: a.mac, ip: a.ip, vtep: va.local });
    try {
      const rx = b.bind(9);
      const got: number[] = [];
      rx.on('message', (d: Uint8Array) => got.push(d.length));
      const tx = a.bind(0);
      await a.resolveMac(b.ip);
      tx.send(new Uint8Array(1000 - 28), b.ip, 9); // exactly the MTU: 20 IP + 8 UDP + 972
      tx.send(new Uint8Array(1000 - 27), b.ip, 9); // one byte over
      net.flush();
      await new Promise((r) => setImmediate(r));
      expect(got).toEqual([972]);
      expect(va.counters.drops.mtu).toBe(1);
      expect(sa.counters.drops.mtu).toBe(1);
      expect(totalDrops(vb.counters)).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
    }
  });

  it('delivers between two ports of one segment without touching the underlay', async () => {
    const net = new MemoryNetwork();
    const v = new Vtep({ underlay: net.attach() });
    const s = v.addSegment(1);
    const a = new Endpoint({ mac: '02:00:00:00:03:0a', ip: '10.7.0.1' }).attach(s);
    const b = new Endpoint({ mac: '02:00:00:00:03:0b', ip: '10.7.0.2' }).attach(s);
    try {
      await a.ping(b.ip);
      expect(v.counters.txPackets).toBe(0);
      expect(v.counters.localDelivered).toBeGreaterThanOrEqual(3); // ARP request, ARP reply, echo request, echo reply
    } finally {
      await Promise.all([a.close(), b.close(), v.close()]);
    }
  });

  it('answers nothing across VNIs (isolation)', async () => {
    const net = new MemoryNetwork();
    const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }) });
    const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }) });
    const a = new Endpoint({ mac: '02:00:00:00:04:0a', ip: '10.6.0.1', arpTimeoutMs: 20, arpRetries: 1 }).attach(va.addSegment(1, { flood: [vb.local] }));
    const b = new Endpoint({ mac: '02:00:00:00:04:0b', ip: '10.6.0.2' }).attach(vb.addSegment(2, { flood: [va.local] }));
    try {
      await expect(a.ping(b.ip, { timeoutMs: 500 })).rejects.toMatchObject({ name: 'HostUnreachableError' });
      expect(vb.counters.drops['unknown-vni']).toBe(2); // the ARP request and its retry
      expect(b.counters.rxFrames).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
    }
  });
});
