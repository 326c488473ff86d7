import {
  AddressInUseError,
  AddressOutOfRangeError,
  InvalidAddressError,
  InvalidCidrError,
  InvalidCommandError,
  InvalidOptionsError,
  Ipam,
  NotAllocatedError,
  OverlapError,
  PoolExhaustedError,
  UnknownPoolError,
} from '../src/index';

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('small IPv4 subnets', () => {
  it('/30: network and broadcast reserved, gateway .1, one address left', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: '10.9.0.4/30' });
    expect(p.gateway).toBe('10.9.0.5');
    expect(ipam.allocate(p.poolId)).toBe('10.9.0.6');
    const err = caught(() => ipam.allocate(p.poolId));
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect(err.name).toBe('PoolExhaustedError');
    expect((err as PoolExhaustedError).pool).toBe('default/10.9.0.4/30');
    expect(err.message).toContain('default/10.9.0.4/30');
    expect(caught(() => ipam.allocate(p.poolId, '10.9.0.4'))).toBeInstanceOf(AddressOutOfRangeError);
    expect(caught(() => ipam.allocate(p.poolId, '10.9.0.7')).message).toContain('broadcast address');
  });

  it('/31: both addresses usable (RFC 3021)', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: '10.9.0.8/31' });
    expect(p.gateway).toBe('10.9.0.8');
    expect(ipam.allocate(p.poolId)).toBe('10.9.0.9');
    expect(caught(() => ipam.allocate(p.poolId))).toBeInstanceOf(PoolExhaustedError);
    const q = ipam.requestPool({ subnet: '10.9.0.10/31', gateway: null });
    expect([ipam.allocate(q.poolId), ipam.allocate(q.poolId)]).toEqual(['10.9.0.10', '10.9.0.11']);
  });

  it('/32: the single address; taken by the gateway unless gateway is null', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: '10.9.0.12/32' });
    expect(p.gateway).toBe('10.9.0.12');
    expect(caught(() => ipam.allocate(p.poolId))).toBeInstanceOf(PoolExhaustedError);
    const q = ipam.requestPool({ subnet: '10.9.0.13/32', gateway: null });
    expect(q.gateway).toBeNull();
    expect(ipam.allocate(q.poolId)).toBe('10.9.0.13');
    expect(caught(() => ipam.allocate(q.poolId))).toBeInstanceOf(PoolExhaustedError);
    ipam.release(q.poolId, '10.9.0.13');
    expect(ipam.allocate(q.poolId)).toBe('10.9.0.13');
  });

  it('a full /16: every usable address exactly once, then exhaustion, then reuse of a released one', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool({ subnet: '172.20.0.0/16' });
    const seen = new Set<string>();
    for (let i = 0; i < 65533; i++) seen.add(ipam.allocate(poolId));
    expect(seen.size).toBe(65533);
    expect(seen.has('172.20.0.0')).toBe(false);
    expect(seen.has('172.20.0.1')).toBe(false); // gateway
    expect(seen.has('172.20.255.255')).toBe(false);
    expect(seen.has('172.20.255.254')).toBe(true);
    expect(ipam.pool(poolId)).toMatchObject({ allocated: 65533, free: 0n });
    const err = caught(() => ipam.allocate(poolId));
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect(ipam.pool(poolId).allocated).toBe(65533); // nothing half-way
    ipam.release(poolId, '172.20.128.7');
    expect(ipam.allocate(poolId)).toBe('172.20.128.7');
    expect(ipam.snapshot().length).toBeLessThanOrEqual(16384);
  });
});

describe('IPv6', () => {
  it('/64 is sparse: far-apart static addresses and serial allocation cost only runs', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: '2001:db8:1:2::/64' });
    expect(p.gateway).toBe('2001:db8:1:2::1');
    expect(ipam.allocate(p.poolId)).toBe('2001:db8:1:2::2');
    expect(ipam.allocate(p.poolId, '2001:DB8:1:2:FFFF:FFFF:FFFF:FFFF')).toBe('2001:db8:1:2:ffff:ffff:ffff:ffff');
    expect(ipam.allocate(p.poolId, '2001:db8:1:2:8000::')).toBe('2001:db8:1:2:8000::');
    for (let i = 0; i < 10_000; i++) ipam.allocate(p.poolId);
    expect(ipam.state.pools[p.poolId]?.used.starts.length).toBe(3);
    expect(ipam.pool(p.poolId).free).toBe((1n << 64n) - 1n - 1n - 10_003n);
    expect(caught(() => ipam.allocate(p.poolId, '2001:db8:1:3::1'))).toBeInstanceOf(AddressOutOfRangeError);
    expect(caught(() => ipam.allocate(p.poolId, '2001:db8:1:2::'))).toBeInstanceOf(AddressOutOfRangeError);
    expect(caught(() => ipam.allocate(p.poolId, '10.0.0.1'))).toBeInstanceOf(InvalidAddressError);
  });

  it('/120: 255 usable addresses (subnet-router anycast reserved, last address usable)', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: 'fd00::100/120' });
    const got: string[] = [];
    for (let i = 0; i < 254; i++) got.push(ipam.allocate(p.poolId));
    expect(got[0]).toBe('fd00::102');
    expect(got[253]).toBe('fd00::1ff');
    expect(caught(() => ipam.allocate(p.poolId))).toBeInstanceOf(PoolExhaustedError);
  });
});

describe('pools', () => {
  it('rejects overlapping explicit subnets in one space, naming both', () => {
    const ipam = new Ipam();
    ipam.requestPool({ subnet: '10.20.0.0/16' });
    const err = caught(() => ipam.requestPool({ subnet: '10.20.5.0/24' }));
    expect(err).toBeInstanceOf(OverlapError);
    expect(err.name).toBe('OverlapError');
    expect(err.message).toBe('ipam: subnet 10.20.5.0/24 overlaps 10.20.0.0/16 already allocated in address space "default"');
    expect(caught(() => ipam.requestPool({ subnet: '10.0.0.0/8' }))).toBeInstanceOf(OverlapError);
    expect(ipam.requestPool({ subnet: '10.20.5.0/24', space: 'other' }).subnet).toBe('10.20.5.0/24');
    ipam.requestPool({ subnet: '2001:db8::/64' });
    expect(caught(() => ipam.requestPool({ subnet: '2001:db8::/48' }))).toBeInstanceOf(OverlapError);
  });

  it('rejects malformed subnets with InvalidCidrError naming the text', () => {
    const ipam = new Ipam();
    for (const bad of ['10.0.0.0/33', '10.0.0.1/24', '300.0.0.0/8', 'fe80::/129', 'garbage']) {
      const err = caught(() => ipam.requestPool({ subnet: bad }));
      expect(err).toBeInstanceOf(InvalidCidrError);
      expect((err as InvalidCidrError).text).toBe(bad);
    }
    expect(ipam.poolIds()).toEqual([]);
  });

  it('explicit gateway and auxiliary addresses are reserved and checked', () => {
    const ipam = new Ipam();
    const p = ipam.requestPool({ subnet: '10.30.0.0/24', gateway: '10.30.0.254', auxAddresses: { router: '10.30.0.2', dns: '10.30.0.3' } });
    expect(p.gateway).toBe('10.30.0.254');
    expect(ipam.pool(p.poolId).auxAddresses).toEqual({ dns: '10.30.0.3', router: '10.30.0.2' });
    expect(ipam.allocate(p.poolId)).toBe('10.30.0.1');
    expect(ipam.allocate(p.poolId)).toBe('10.30.0.4');
    expect(caught(() => ipam.release(p.poolId, '10.30.0.2'))).toBeInstanceOf(NotAllocatedError);
    expect(caught(() => ipam.release(p.poolId, '10.30.0.254'))).toBeInstanceOf(NotAllocatedError);
    expect(ipam.isAllocated(p.poolId, '10.30.0.2')).toBe(true);
    const outside = caught(() => ipam.requestPool({ subnet: '10.31.0.0/24', auxAddresses: { x: '10.32.0.1' } }));
    expect(outside).toBeInstanceOf(AddressOutOfRangeError);
    expect(outside.message).toContain('10.32.0.1');
    expect(caught(() => ipam.requestPool({ subnet: '10.31.0.0/24', gateway: '10.31.0.0' }))).toBeInstanceOf(AddressOutOfRangeError);
    expect(caught(() => ipam.requestPool({ subnet: '10.31.0.0/24', auxAddresses: { a: '10.31.0.1' } }))).toBeInstanceOf(AddressInUseError);
    expect(caught(() => ipam.requestPool({ subnet: '10.31.0.0/24', gateway: 'nope' }))).toBeInstanceOf(InvalidAddressError);
    expect(ipam.poolIds()).toEqual(['default/10.30.0.0/24']); // failed requests left nothing behind
  });

  it('static requests: taken, out of range; release errors', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool();
    expect(ipam.allocate(poolId, '10.0.0.77')).toBe('10.0.0.77');
    const inUse = caught(() => ipam.allocate(poolId, '10.0.0.77'));
    expect(inUse).toBeInstanceOf(AddressInUseError);
    expect(inUse.name).toBe('AddressInUseError');
    expect(caught(() => ipam.allocate(poolId, '10.0.0.1'))).toBeInstanceOf(AddressInUseError);
    expect(caught(() => ipam.allocate(poolId, '10.0.1.1'))).toBeInstanceOf(AddressOutOfRangeError);
    expect(caught(() => ipam.allocate(poolId, '10.0.0.255'))).toBeInstanceOf(AddressOutOfRangeError);
    // The static request did not move the serial cursor.
    expect(ipam.allocate(poolId)).toBe('10.0.0.2');
    ipam.release(poolId, '10.0.0.77');
    const twice = caught(() => ipam.release(poolId, '10.0.0.77'));
    expect(twice).toBeInstanceOf(NotAllocatedError);
    expect(twice.message).toBe('ipam: address 10.0.0.77 is not allocated in pool default/10.0.0.0/24');
    expect(caught(() => ipam.release(poolId, '10.0.0.100'))).toBeInstanceOf(NotAllocatedError);
    expect(caught(() => ipam.release('default/10.9.9.0/24', '10.9.9.2'))).toBeInstanceOf(UnknownPoolError);
    expect(caught(() => ipam.allocate(''))).toBeInstanceOf(InvalidCommandError);
  });

  it('exhaustion of the default pools names them', () => {
    const ipam = new Ipam({ defaultPools: [{ base: '10.0.0.0/23', size: 24 }] });
    ipam.requestPool();
    ipam.requestPool();
    const err = caught(() => ipam.requestPool());
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect((err as PoolExhaustedError).pool).toBe('default: 10.0.0.0/23 size 24');
    const v6 = caught(() => ipam.requestPool({ family: 6 }));
    expect(v6).toBeInstanceOf(PoolExhaustedError);
    expect(v6.message).toContain('no IPv6 default pool is configured');
  });

  it('allocatedAddresses lists what allocate handed out, lazily, for reconciliation', () => {
    const ipam = new Ipam({ quarantine: { operations: 100 } });
    const p = ipam.requestPool({ subnet: '10.40.0.0/24', auxAddresses: { r: '10.40.0.3' } }).poolId;
    ipam.allocate(p);
    ipam.allocate(p);
    ipam.allocate(p, '10.40.0.200');
    ipam.release(p, '10.40.0.2');
    expect([...ipam.allocatedAddresses(p)]).toEqual(['10.40.0.4', '10.40.0.200']);
    const v6 = ipam.requestPool({ subnet: 'fd00:9::/64' }).poolId;
    for (let i = 0; i < 100_000; i++) ipam.allocate(v6);
    const it = ipam.allocatedAddresses(v6);
    expect(it.next().value).toBe('fd00:9::2');
    expect(it.next().value).toBe('fd00:9::3');
    expect(() => [...ipam.allocatedAddresses('nope')]).toThrow(UnknownPoolError);
  });

  it('releasePool frees the subnet and its addresses', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool();
    ipam.allocate(poolId);
    ipam.releasePool(poolId);
    expect(caught(() => ipam.allocate(poolId))).toBeInstanceOf(UnknownPoolError);
    expect(caught(() => ipam.releasePool(poolId))).toBeInstanceOf(UnknownPoolError);
    const again = ipam.requestPool();
    expect(again.poolId).toBe(poolId);
    expect(ipam.allocate(poolId)).toBe('10.0.0.2');
  });

  it('invalid options fail in the constructor naming the field', () => {
    const bad = caught(() => new Ipam({ defaultPools: [{ base: '10.0.0.0/8', size: 7 }] }));
    expect(bad).toBeInstanceOf(InvalidOptionsError);
    expect((bad as InvalidOptionsError).field).toBe('defaultPools.0.size');
    expect((caught(() => new Ipam({ defaultPools: [{ base: '10.0.0.1/8', size: 24 }] })) as InvalidOptionsError).field).toBe('defaultPools.0.base');
    expect((caught(() => new Ipam({ quarantine: { operations: -1 } })) as InvalidOptionsError).field).toBe('quarantine.operations');
    expect((caught(() => new Ipam({ bogus: 1 } as never)) as InvalidOptionsError).name).toBe('InvalidOptionsError');
  });
});
