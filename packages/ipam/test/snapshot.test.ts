import { InvalidSnapshotError, Ipam, createState, decodeSnapshot, encodeSnapshot, execute } from '../src/index';

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('snapshots', () => {
  it('pins the format of a small state (format weft-ipam/1)', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool({ auxAddresses: { b: '10.0.0.9', a: '10.0.0.8' } });
    ipam.allocate(poolId);
    ipam.allocate(poolId, '10.0.0.100');
    ipam.requestPool({ subnet: 'fd00::/64', space: 'v6' });
    // Used offsets 1-2 (gateway, .2), 8-9 (aux), 100: runs as (gap, length-1) varints
    // 00 01 | 04 01 | 59 00, worked out by hand: gap 8-2-2=4, gap 100-9-2=89=0x59;
    // base64url(000104 015900) = "AAEE" + "AVkA".
    expect(ipam.snapshot()).toBe(
      '{"format":"weft-ipam/1","seq":4,"clock":0,"options":{"defaultPools":[{"base":"10.0.0.0/8","size":24}],"quarantine":{"operations":0,"ms":0}},' +
        '"pools":[{"space":"default","subnet":"10.0.0.0/24","gateway":"10.0.0.1","aux":{"a":"10.0.0.8","b":"10.0.0.9"},"cursor":"10.0.0.3","used":"rAAEEAVkA",' +
        '"quarantine":[]},{"space":"v6","subnet":"fd00::/64","gateway":"fd00::1","aux":{},"cursor":"fd00::1","used":"rAAA","quarantine":[]}]}',
    );
  });

  it('is independent of the order auxiliary addresses were given in and of pool insertion order', () => {
    const one = new Ipam();
    one.requestPool({ subnet: '10.1.0.0/24', auxAddresses: { x: '10.1.0.5', y: '10.1.0.6' } });
    one.requestPool({ subnet: '10.2.0.0/24' });
    const two = new Ipam();
    two.requestPool({ subnet: '10.2.0.0/24' });
    two.requestPool({ subnet: '10.1.0.0/24', auxAddresses: { y: '10.1.0.6', x: '10.1.0.5' } });
    expect(two.snapshot()).toBe(one.snapshot());
  });

  it('a full /16 is one run; a checkerboard /16 falls back to a bitset, both within 16 KiB, both round-trip', () => {
    const full = new Ipam();
    const f = full.requestPool({ subnet: '10.8.0.0/16' }).poolId;
    for (let i = 0; i < 65533; i++) full.allocate(f);
    expect(full.snapshot().length).toBeLessThan(400);
    expect(Ipam.restore(full.snapshot()).snapshot()).toBe(full.snapshot());

    const checker = new Ipam();
    const c = checker.requestPool({ subnet: '10.9.0.0/16' }).poolId;
    for (let i = 0; i < 65533; i++) checker.allocate(c);
    for (let v = 2; v < 65535; v += 2) checker.release(c, `10.9.${v >> 8}.${v & 255}`);
    const snap = checker.snapshot();
    expect(snap).toContain('"used":"b');
    expect(snap.length).toBeLessThanOrEqual(16384);
    const back = Ipam.restore(snap);
    expect(back.snapshot()).toBe(snap);
    expect(back.isAllocated(c, '10.9.0.3')).toBe(true);
    expect(back.isAllocated(c, '10.9.0.4')).toBe(false);
    expect(back.pool(c)).toEqual(checker.pool(c));
  });

  it('restored state continues identically (cursor, counters)', () => {
    const a = new Ipam();
    const p = a.requestPool().poolId;
    for (let i = 0; i < 10; i++) a.allocate(p);
    a.release(p, '10.0.0.5');
    const b = Ipam.restore(a.snapshot());
    for (let i = 0; i < 300; i++) {
      let ra: string;
      let rb: string;
      try {
        ra = a.allocate(p);
      } catch (e) {
        ra = (e as Error).name;
      }
      try {
        rb = b.allocate(p);
      } catch (e) {
        rb = (e as Error).name;
      }
      expect(rb).toBe(ra);
    }
    expect(b.snapshot()).toBe(a.snapshot());
  });

  it('the functional API: createState + execute + encode/decode', () => {
    const s = createState({ defaultPools: [{ base: '192.168.0.0/16', size: 24 }] });
    const r = execute(s, { op: 'requestPool' });
    expect(r).toEqual({ op: 'requestPool', poolId: 'default/192.168.0.0/24', subnet: '192.168.0.0/24', gateway: '192.168.0.1' });
    expect(execute(s, { op: 'allocate', poolId: 'default/192.168.0.0/24' })).toEqual({ op: 'allocate', poolId: 'default/192.168.0.0/24', address: '192.168.0.2' });
    const copy = structuredClone(s);
    expect(encodeSnapshot(copy)).toBe(encodeSnapshot(s));
    expect(encodeSnapshot(decodeSnapshot(encodeSnapshot(s)))).toBe(encodeSnapshot(s));
  });

  it.each([
    ['not JSON', '{', 'not JSON'],
    ['wrong format', '{"format":"weft-ipam/0"}', 'format'],
    ['negative seq', '{"format":"weft-ipam/1","seq":-1,"clock":0,"options":{},"pools":[]}', 'seq'],
  ])('rejects %s', (_what, text, fragment) => {
    const err = caught(() => Ipam.restore(text));
    expect(err).toBeInstanceOf(InvalidSnapshotError);
    expect(err.name).toBe('InvalidSnapshotError');
    expect(err.message).toContain(fragment);
  });

  it('rejects inconsistent pools', () => {
    const good = new Ipam();
    const p = good.requestPool({ subnet: '10.0.0.0/30' }).poolId;
    good.allocate(p);
    const snap = good.snapshot();
    const mutate = (f: (pool: Record<string, unknown>) => void): string => {
      const j = JSON.parse(snap) as { pools: Record<string, unknown>[] };
      f(j.pools[0] as Record<string, unknown>);
      return JSON.stringify(j);
    };
    const bad = [
      mutate((x) => (x.subnet = '10.0.0.1/30')),
      mutate((x) => (x.used = 'rAAAA')), // a run beyond the subnet
      mutate((x) => (x.used = 'r')), // gateway not in the used set
      mutate((x) => (x.used = 'b!!')),
      mutate((x) => (x.used = 'z')),
      mutate((x) => (x.cursor = '10.0.0.3')),
      mutate((x) => (x.quarantine = [['10.0.0.2', 1, 0], ['10.0.0.2', 1, 0]])),
      mutate((x) => (x.gateway = '10.0.1.1')),
      mutate((x) => (x.gateway = 'nope')), // InvalidAddressError from @weft/interface, wrapped
      mutate((x) => (x.cursor = 'fd00::1')),
      mutate((x) => (x.aux = { a: '10.0.0.01' })),
    ];
    for (const text of bad) {
      const err = caught(() => Ipam.restore(text));
      expect(err).toBeInstanceOf(InvalidSnapshotError);
      expect((err as InvalidSnapshotError).code).toBe('ERR_INVALID_SNAPSHOT');
    }
    expect(caught(() => Ipam.restore(mutate((x) => (x.gateway = 'nope')))).message).toBe(
      'ipam: invalid snapshot: invalid IP address "nope": not an IPv4 address (pool default/10.0.0.0/30)',
    );
    const two = JSON.parse(snap) as { pools: Record<string, unknown>[] };
    two.pools.push({ ...(two.pools[0] as object), subnet: '10.0.0.0/29', gateway: '10.0.0.1', cursor: '10.0.0.1', used: 'rAAA' });
    expect(() => Ipam.restore(JSON.stringify(two))).toThrow('overlapping pools in address space "default"');
  });
});
