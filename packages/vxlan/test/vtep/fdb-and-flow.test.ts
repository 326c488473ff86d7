import fc from 'fast-check';
import { Fdb, NeighbourTable, ethernet, flowSourcePort, ipv4, macKeyOf, udp, type Port } from '../../src';

const a = { host: '192.0.2.1', port: 4789 };
const b = { host: '192.0.2.2', port: 4789 };

describe('Fdb', () => {
  it('static entries win over learning and never age', () => {
    const fdb = new Fdb(100, 10);
    const port: Port = { mac: '02:00:00:00:00:01', receive: () => undefined };
    fdb.setStatic('02:00:00:00:00:01', { kind: 'local', port });
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

describe('Fdb static remote entries', () => {
  const mac = (i: number): string => `02:00:00:00:01:${i.toString(16).padStart(2, '0')}`;

  it('share one target per remote VTEP, and list without a lastSeen', () => {
    const fdb = new Fdb(100, 10);
    for (let i = 0; i < 3; i++) fdb.setStatic(mac(i), { kind: 'remote', address: { ...a } });
    fdb.setStatic(mac(3), { kind: 'remote', address: { ...b } });
    const [t0, t1, t2, t3] = [0, 1, 2, 3].map((i) => fdb.get(macKeyOf(mac(i)), 0));
    expect(t0).toEqual({ kind: 'remote', address: a });
    expect(t1).toBe(t0);
    expect(t2).toBe(t0);
    expect(t3).toEqual({ kind: 'remote', address: b });
    expect(t3).not.toBe(t0);
    expect(fdb.entries()).toEqual([
      { mac: mac(0), target: { kind: 'remote', address: a }, static: true },
      { mac: mac(1), target: { kind: 'remote', address: a }, static: true },
      { mac: mac(2), target: { kind: 'remote', address: a }, static: true },
      { mac: mac(3), target: { kind: 'remote', address: b }, static: true },
    ]);
    expect(fdb.entries().every((e) => !('lastSeen' in e))).toBe(true);
  });

  it('move, replace and delete entries without disturbing the others sharing their target', () => {
    const fdb = new Fdb(100, 10);
    fdb.setStatic(mac(0), { kind: 'remote', address: a });
    fdb.setStatic(mac(1), { kind: 'remote', address: a });
    const shared = fdb.get(macKeyOf(mac(0)), 0);
    fdb.setStatic(mac(0), { kind: 'remote', address: b }); // moved
    expect(fdb.get(macKeyOf(mac(0)), 0)).toEqual({ kind: 'remote', address: b });
    expect(fdb.get(macKeyOf(mac(1)), 0)).toBe(shared);
    const port: Port = { mac: mac(1), receive: () => undefined };
    fdb.setStatic(mac(1), { kind: 'local', port }); // replaced by a local port
    expect(fdb.get(macKeyOf(mac(1)), 0)).toEqual({ kind: 'local', port });
    // Nothing uses the first target for `a` any more: a new entry to `a` keeps the target it is given.
    const fresh = { kind: 'remote', address: { ...a } } as const;
    fdb.setStatic(mac(2), fresh);
    expect(fdb.get(macKeyOf(mac(2)), 0)).toBe(fresh);
    expect(fdb.delete(mac(2))).toBe(true);
    const again = { kind: 'remote', address: { ...a } } as const;
    fdb.setStatic(mac(3), again);
    expect(fdb.get(macKeyOf(mac(3)), 0)).toBe(again);
    expect(fdb.size).toBe(3);
  });

  it('keep two spellings of one IPv6 VTEP apart, each entry at the address it was given', () => {
    const fdb = new Fdb(100, 10);
    fdb.setStatic(mac(0), { kind: 'remote', address: { host: '2001:db8::1', port: 4789 } });
    fdb.setStatic(mac(1), { kind: 'remote', address: { host: '2001:DB8:0::1', port: 4789 } });
    expect(fdb.get(macKeyOf(mac(0)), 0)).toEqual({ kind: 'remote', address: { host: '2001:db8::1', port: 4789 } });
    expect(fdb.get(macKeyOf(mac(1)), 0)).toEqual({ kind: 'remote', address: { host: '2001:DB8:0::1', port: 4789 } });
  });

  it('are not touched by learning, which keeps its own targets and ages', () => {
    const fdb = new Fdb(100, 10);
    fdb.setStatic(mac(0), { kind: 'remote', address: a });
    const shared = fdb.get(macKeyOf(mac(0)), 0);
    expect(fdb.learn(macKeyOf(mac(0)), b, 0)).toBe(false);
    expect(fdb.learn(macKeyOf(mac(1)), a, 0)).toBe(true);
    expect(fdb.learn(macKeyOf(mac(1)), b, 10)).toBe(true); // the learned entry moves; the static one stays
    expect(fdb.get(macKeyOf(mac(0)), 1e9)).toBe(shared);
    expect(shared).toEqual({ kind: 'remote', address: a });
    expect(fdb.entries()).toEqual([
      { mac: mac(0), target: { kind: 'remote', address: a }, static: true },
      { mac: mac(1), target: { kind: 'remote', address: b }, static: false, lastSeen: 10 },
    ]);
    expect(fdb.sweep(111)).toBe(1);
    expect(fdb.entries().map((e) => e.mac)).toEqual([mac(0)]);
  });
});

describe('NeighbourTable', () => {
  it('binds, rebinds and removes IPv4 → MAC, listing canonical text and bytes', () => {
    const t = new NeighbourTable();
    t.set('10.0.0.2', '02:42:0A:00:00:02');
    t.set('192.168.1.200', '02:42:c0:a8:01:c8');
    expect(t.size).toBe(2);
    expect(t.get(0x0a000002)).toEqual({ ip: '10.0.0.2', mac: '02:42:0a:00:00:02', macBytes: Uint8Array.of(2, 0x42, 10, 0, 0, 2) });
    expect(t.get(0xc0a801c8)?.mac).toBe('02:42:c0:a8:01:c8');
    t.set('10.0.0.2', 'ff:ee:dd:cc:bb:aa');
    expect(t.get(0x0a000002)?.macBytes).toEqual(Uint8Array.of(0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa));
    expect(t.entries().map((n) => `${n.ip} ${n.mac}`)).toEqual(['10.0.0.2 ff:ee:dd:cc:bb:aa', '192.168.1.200 02:42:c0:a8:01:c8']);
    expect(t.delete('10.0.0.2')).toBe(true);
    expect(t.delete('10.0.0.2')).toBe(false);
    expect(t.get(0x0a000002)).toBeUndefined();
    expect(t.size).toBe(1);
    expect(() => t.set('10.0.0.3', '02:00:00:00:00')).toThrow(expect.objectContaining({ kind: 'MAC' }));
    expect(t.size).toBe(1);
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
