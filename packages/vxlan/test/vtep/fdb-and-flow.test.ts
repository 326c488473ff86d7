import fc from 'fast-check';
import { Fdb, ethernet, flowSourcePort, ipv4, macKeyOf, udp, type Port } from '../../src';

const a = { host: '192.0.2.1', port: 4789 };
const b = { host: '192.0.2.2', port: 4789 };

describe('Fdb', () => {
  it('static entries win over learning and never age', () => {
    const fdb = new Fdb(100, 10);
    const port: Port = { mac: '02:00:00:00:00:01', receive: () => undefined };
    fdb.setStatic('02:00:00:00:00:01', { kind: 'local', port }, 0);
    expect(fdb.learn(macKeyOf('02:00:00:00:00:01'), a, 0)).toBe(false);
    expect(fdb.get(macKeyOf('02:00:00:00:00:01'), 1e9)).toEqual({ kind: 'local', port });
  });

  it('learns, refreshes, moves and ages entries', () => {
    const fdb = new Fdb(100, 10);
    const k = macKeyOf('02:00:00:00:00:05');
    expect(fdb.learn(k, a, 0)).toBe(true);
    expect(fdb.learn(k, { ...a }, 50)).toBe(false); // refresh, same place
    expect(fdb.get(k, 150)).toEqual({ kind: 'remote', address: a });
    expect(fdb.learn(k, b, 160)).toBe(true); // moved
    expect(fdb.get(k, 260)).toEqual({ kind: 'remote', address: b });
    expect(fdb.get(k, 261)).toBeUndefined();
    expect(fdb.sweep(261)).toBe(1);
    expect(fdb.size).toBe(0);
  });

  it('stops learning at the cap', () => {
    const fdb = new Fdb(100, 3);
    for (let i = 0; i < 10; i++) fdb.learn(0x020000000000 + i, a, 0);
    expect(fdb.size).toBe(3);
    expect(fdb.entries().map((e) => e.mac)).toEqual(['02:00:00:00:00:00', '02:00:00:00:00:01', '02:00:00:00:00:02']);
    // Once those have aged out, a full table makes room for new ones.
    expect(fdb.learn(0x020000000063, a, 101)).toBe(true);
    expect(fdb.entries().map((e) => e.mac)).toEqual(['02:00:00:00:00:63']);
  });
});

let ipId = 0;
function udpFrame(src: string, dst: string, sport: number, dport: number, tagged = false): Uint8Array {
  const datagram = udp.encode({ srcPort: sport, dstPort: dport, payload: new Uint8Array(10) });
  const packet = ipv4.encode({ tos: 0, id: (ipId = (ipId + 7919) & 0xffff), df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: 17, src, dst, payload: datagram });
  return ethernet.encode({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800, ...(tagged ? { vlan: { pcp: 0, dei: false, vid: 9 } } : {}), payload: packet });
}

describe('flowSourcePort (RFC 7348 §5)', () => {
  it('is in 49152–65535 for any bytes at all', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const p = flowSourcePort(bytes);
        return Number.isInteger(p) && p >= 49152 && p <= 65535;
      }),
      { seed: 5, numRuns: 2000 },
    );
  });

  it('is the same for every packet of a flow (IP id and payload do not matter) and spreads different flows', () => {
    expect(flowSourcePort(udpFrame('10.0.0.1', '10.0.0.2', 1000, 53))).toBe(flowSourcePort(udpFrame('10.0.0.1', '10.0.0.2', 1000, 53)));
    expect(flowSourcePort(udpFrame('10.0.0.1', '10.0.0.2', 1000, 53, true))).toBe(flowSourcePort(udpFrame('10.0.0.1', '10.0.0.2', 1000, 53)));
    const ports = new Set<number>();
    for (let sport = 1000; sport < 1256; sport++) ports.add(flowSourcePort(udpFrame('10.0.0.1', '10.0.0.2', sport, 53)));
    expect(ports.size).toBeGreaterThan(240); // 256 flows in 16384 buckets: a few collisions at most
  });
});
