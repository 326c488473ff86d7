/**
 * Two VTEPs on real UDP sockets on loopback (127.0.0.1 and 127.0.0.2), two
 * tenants on VNIs 100 and 200 that even reuse the same IP addresses: traffic
 * stays inside its VNI.
 */
import { Endpoint, UdpUnderlay, Vtep, type Segment } from '../../src';

interface Host {
  vtep: Vtep;
  seg100: Segment;
  seg200: Segment;
}

async function host(ip: string): Promise<Host> {
  const vtep = new Vtep({ underlay: await UdpUnderlay.bind({ host: ip, port: 0 }) });
  return { vtep, seg100: vtep.addSegment(100), seg200: vtep.addSegment(200) };
}

describe('two Vteps on loopback, endpoints on two VNIs', () => {
  let A: Host;
  let B: Host;
  const eps: Endpoint[] = [];
  const ep = (mac: string, ip: string, seg: Segment): Endpoint => {
    const e = new Endpoint({ mac, ip, arpTimeoutMs: 50, arpRetries: 1 }).attach(seg);
    eps.push(e);
    return e;
  };
  let a1: Endpoint, b1: Endpoint, a2: Endpoint, b2: Endpoint, c2: Endpoint;

  beforeAll(async () => {
    A = await host('127.0.0.1');
    B = await host('127.0.0.2');
    // Tenant 1 (VNI 100) and tenant 2 (VNI 200) use the same addresses.
    a1 = ep('02:00:00:01:00:01', '10.0.0.1', A.seg100);
    b1 = ep('02:00:00:01:00:02', '10.0.0.2', B.seg100);
    a2 = ep('02:00:00:02:00:01', '10.0.0.1', A.seg200);
    b2 = ep('02:00:00:02:00:02', '10.0.0.2', B.seg200);
    c2 = ep('02:00:00:02:00:03', '10.0.0.3', B.seg200);
    // Control plane: flood lists only (ARP is flooded and answered by the endpoints themselves).
    for (const [mine, other] of [
      [A, B],
      [B, A],
    ] as const) {
      mine.seg100.addFloodTarget(other.vtep.local);
      mine.seg200.addFloodTarget(other.vtep.local);
    }
  });

  afterAll(async () => {
    await Promise.all(eps.map((e) => e.close()));
    await Promise.all([A?.vtep.close(), B?.vtep.close()]);
  });

  it('binds the two VTEPs on different loopback addresses', () => {
    expect(A.vtep.local.host).toBe('127.0.0.1');
    expect(B.vtep.local.host).toBe('127.0.0.2');
  });

  it('same-VNI endpoints ping each other, and the same IP on the other VNI is not involved', async () => {
    await a1.ping('10.0.0.2', { timeoutMs: 2000 });
    await a2.ping('10.0.0.2', { timeoutMs: 2000 });
    expect(b1.counters.echoRequestsAnswered).toBe(1);
    expect(b2.counters.echoRequestsAnswered).toBe(1);
    expect(a1.neighbours().find((n) => n.ip === '10.0.0.2')?.mac).toBe(b1.mac);
    expect(a2.neighbours().find((n) => n.ip === '10.0.0.2')?.mac).toBe(b2.mac);
  });

  it('UDP echo stays inside its VNI', async () => {
    for (const [server, tag] of [
      [b1, 'vni100'],
      [b2, 'vni200'],
    ] as const) {
      const s = server.bind(7);
      s.on('message', (d: Uint8Array, r: { address: string; port: number }) => s.send(new TextEncoder().encode(`${tag}:${new TextDecoder().decode(d)}`), r.address, r.port));
    }
    const ask = (client: Endpoint): Promise<string> => {
      const s = client.bind(0);
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no UDP echo')), 2000);
        s.once('message', (d: Uint8Array) => {
          clearTimeout(t);
          s.close();
          resolve(new TextDecoder().decode(d));
        });
        s.send(new TextEncoder().encode('ping'), '10.0.0.2', 7);
      });
    };
    await expect(ask(a1)).resolves.toBe('vni100:ping');
    await expect(ask(a2)).resolves.toBe('vni200:ping');
  });

  it('an endpoint cannot reach one on another VNI', async () => {
    // 10.0.0.3 exists only on VNI 200.
    const seen = c2.counters.rxFrames;
    await expect(a1.ping('10.0.0.3', { timeoutMs: 2000 })).rejects.toMatchObject({ name: 'HostUnreachableError' });
    expect(c2.counters.rxFrames).toBe(seen);
    // Even a forged FDB entry on VNI 100 pointing c2's MAC at B does not cross: B's VNI 100 has no such port.
    A.seg100.addRemoteEndpoint({ mac: c2.mac, ip: '10.0.0.3', vtep: B.vtep.local });
    const before = B.vtep.counters.drops['no-fdb-entry'];
    await expect(a1.ping('10.0.0.3', { timeoutMs: 300 })).rejects.toMatchObject({ name: 'PingTimeoutError' });
    expect(B.vtep.counters.drops['no-fdb-entry']).toBe(before + 1);
    expect(c2.counters.rxFrames).toBe(seen);
    // While on its own VNI it answers.
    await expect(a2.ping('10.0.0.3', { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
  });
});

describe('two Vteps over an IPv6 underlay (::1)', () => {
  it('carries ping and UDP between endpoints', async () => {
    const va = new Vtep({ underlay: await UdpUnderlay.bind({ host: '::1', port: 0 }) });
    const vb = new Vtep({ underlay: await UdpUnderlay.bind({ host: '::1', port: 0 }) });
    const a = new Endpoint({ mac: '02:00:00:06:00:01', ip: '10.6.0.1' }).attach(va.addSegment(6, { flood: [vb.local] }));
    const b = new Endpoint({ mac: '02:00:00:06:00:02', ip: '10.6.0.2' }).attach(vb.addSegment(6, { flood: [va.local] }));
    try {
      expect(va.local.host).toBe('::1');
      await expect(a.ping(b.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
      const rx = b.bind(53);
      const got = new Promise<string>((resolve) => rx.once('message', (d: Uint8Array) => resolve(Buffer.from(d).toString())));
      a.bind(0).send(Buffer.from('over v6'), b.ip, 53);
      await expect(got).resolves.toBe('over v6');
    } finally {
      await Promise.all([a.close(), b.close(), va.close(), vb.close()]);
    }
  });
});
