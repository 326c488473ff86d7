/**
 * RFC 7348 §5 on the wire: a UdpUnderlay with a `sourcePorts` pool sends each
 * flow from one port in 49152–65535, spreads flows over the pool, hears
 * replies on pool ports, and a Vtep's captures record the port a raw receiving
 * socket really sees.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Endpoint, UdpUnderlay, Vtep } from '../../src';

function rawReceiver(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

/** Collects `count` datagrams (or fails after `ms`). */
function collect(s: Socket, count: number, ms = 5000): Promise<{ data: Buffer; port: number }[]> {
  const got: { data: Buffer; port: number }[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`got ${got.length} of ${count} datagrams`)), ms);
    s.on('message', (data, rinfo) => {
      got.push({ data, port: rinfo.port });
      if (got.length === count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

describe('UdpUnderlay source-port pool', () => {
  it('sends each flow hash from its pool port, all in 49152–65535, and receives on pool ports', async () => {
    const u = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0, sourcePorts: 4 });
    const rx = await rawReceiver();
    try {
      const portFor = u.sourcePortFor!;
      expect(portFor).toBeDefined();
      const to = { host: '127.0.0.1', port: rx.address().port };
      const done = collect(rx, 65);
      // 64 hashes twice over would be 128 sends; one round of 64 plus one without a hash is enough.
      for (let h = 0; h < 64; h++) u.send(Uint8Array.of(h), to, 49152 + h * 7);
      u.send(Uint8Array.of(255), to);
      const got = await done;
      const pool = new Set<number>();
      for (const { data, port } of got) {
        if (data[0] === 255) {
          expect(port).toBe(u.local.port);
          continue;
        }
        expect(port).toBe(portFor(49152 + data[0]! * 7));
        expect(port).toBeGreaterThanOrEqual(49152);
        expect(port).toBeLessThanOrEqual(65535);
        pool.add(port);
      }
      expect(pool.size).toBe(4);
      // A peer answering to a pool port is heard.
      const heard = new Promise<Uint8Array>((resolve) => u.onReceive((p) => resolve(p)));
      rx.send(Uint8Array.of(42), [...pool][0]!, '127.0.0.1');
      expect([...(await heard)]).toEqual([42]);
    } finally {
      rx.close();
      await u.close();
    }
  });

  it('has no sourcePortFor without a pool, and rejects a pool size out of range naming the field', async () => {
    const u = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
    try {
      expect(u.sourcePortFor).toBeUndefined();
    } finally {
      await u.close();
    }
    await expect(UdpUnderlay.bind({ host: '127.0.0.1', port: 0, sourcePorts: 65 })).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'sourcePorts' });
  });

  it("a Vtep's recorded source ports are the ones a receiver sees on the wire", async () => {
    const rx = await rawReceiver();
    const vtep = new Vtep({ underlay: await UdpUnderlay.bind({ host: '127.0.0.1', port: 0, sourcePorts: 8 }) });
    const seg = vtep.addSegment(300);
    seg.addRemoteEndpoint({ mac: '02:00:00:03:00:02', ip: '10.30.0.2', vtep: { host: '127.0.0.1', port: rx.address().port } });
    const ep = new Endpoint({ mac: '02:00:00:03:00:01', ip: '10.30.0.1' }).attach(seg);
    const recorded = new Map<string, number>();
    vtep.onOuter((p) => {
      if (p.direction === 'tx') recorded.set(Buffer.from(p.packet).toString('hex'), p.source.port);
    });
    try {
      await ep.resolveMac('10.30.0.2');
      const flows = 16;
      const done = collect(rx, flows * 2);
      // Sixteen flows (distinct source ports), two packets each.
      const socks = Array.from({ length: flows }, (_, i) => ep.bind(6000 + i));
      for (let round = 0; round < 2; round++) socks.forEach((s, i) => s.send(Uint8Array.of(round, i), '10.30.0.2', 53));
      const got = await done;
      const byFlow = new Map<number, Set<number>>();
      for (const { data, port } of got) {
        // The capture recorded exactly the port the datagram arrived from.
        expect(recorded.get(data.toString('hex'))).toBe(port);
        expect(port).toBeGreaterThanOrEqual(49152);
        const flow = data[data.length - 1]!;
        byFlow.set(flow, (byFlow.get(flow) ?? new Set()).add(port));
      }
      // One port per flow, and the flows spread over more than one port.
      for (const ports of byFlow.values()) expect(ports.size).toBe(1);
      expect(new Set([...byFlow.values()].map((p) => [...p][0])).size).toBeGreaterThan(1);
    } finally {
      rx.close();
      await Promise.all([ep.close(), vtep.close()]);
    }
  });
});
