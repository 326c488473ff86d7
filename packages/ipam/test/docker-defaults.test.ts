import { Ipam } from '../src/index';

describe('Docker-compatible defaults (swarm: 10.0.0.0/8 carved into /24)', () => {
  it('first network 10.0.0.0/24, gateway 10.0.0.1, first container 10.0.0.2; second network 10.0.1.0/24', () => {
    const ipam = new Ipam();
    const first = ipam.requestPool();
    expect(first).toEqual({ poolId: 'default/10.0.0.0/24', subnet: '10.0.0.0/24', gateway: '10.0.0.1' });
    expect(ipam.allocate(first.poolId)).toBe('10.0.0.2');
    const second = ipam.requestPool();
    expect(second).toEqual({ poolId: 'default/10.0.1.0/24', subnet: '10.0.1.0/24', gateway: '10.0.1.1' });
    expect(ipam.allocate(second.poolId)).toBe('10.0.1.2');
  });

  it('a released address is not the next one handed out (serial next-fit)', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool();
    const a = ipam.allocate(poolId);
    const b = ipam.allocate(poolId);
    ipam.release(poolId, a);
    const c = ipam.allocate(poolId);
    expect([a, b, c]).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    ipam.release(poolId, c);
    expect(ipam.allocate(poolId)).toBe('10.0.0.5');
  });

  it('wraps around at the end of the subnet and reuses the oldest gaps then', () => {
    const ipam = new Ipam();
    const { poolId } = ipam.requestPool({ subnet: '192.168.7.0/29' }); // usable .1-.6, gateway .1
    expect([2, 3, 4, 5, 6].map(() => ipam.allocate(poolId))).toEqual(['192.168.7.2', '192.168.7.3', '192.168.7.4', '192.168.7.5', '192.168.7.6']);
    ipam.release(poolId, '192.168.7.4');
    ipam.release(poolId, '192.168.7.3');
    expect(ipam.allocate(poolId)).toBe('192.168.7.3');
    expect(ipam.allocate(poolId)).toBe('192.168.7.4');
  });

  it('a released subnet is the first one handed out again; explicit subnets are skipped by the default pool', () => {
    const ipam = new Ipam();
    const a = ipam.requestPool();
    ipam.requestPool({ subnet: '10.0.1.0/24' });
    ipam.requestPool({ subnet: '10.0.2.128/25' });
    expect(ipam.requestPool().subnet).toBe('10.0.3.0/24');
    ipam.releasePool(a.poolId);
    expect(ipam.requestPool().subnet).toBe('10.0.0.0/24');
    // A larger explicit subnet inside the default pool is skipped whole.
    ipam.requestPool({ subnet: '10.0.4.0/22' });
    expect(ipam.requestPool().subnet).toBe('10.0.8.0/24');
  });

  it('the default pool list is configurable and tried in order', () => {
    const ipam = new Ipam({
      defaultPools: [
        { base: '172.30.0.0/23', size: 24 },
        { base: '192.168.0.0/16', size: 26 },
        { base: 'fd00:abcd::/48', size: 64 },
      ],
    });
    expect(ipam.requestPool().subnet).toBe('172.30.0.0/24');
    expect(ipam.requestPool().subnet).toBe('172.30.1.0/24');
    expect(ipam.requestPool().subnet).toBe('192.168.0.0/26');
    expect(ipam.requestPool().subnet).toBe('192.168.0.64/26');
    expect(ipam.requestPool({ family: 6 })).toEqual({ poolId: 'default/fd00:abcd::/64', subnet: 'fd00:abcd::/64', gateway: 'fd00:abcd::1' });
    expect(ipam.requestPool({ family: 6 }).subnet).toBe('fd00:abcd:0:1::/64');
  });

  it('address spaces are independent: the same subnet in two spaces', () => {
    const ipam = new Ipam();
    const local = ipam.requestPool({ space: 'local' });
    const global = ipam.requestPool({ space: 'global' });
    expect(local.subnet).toBe('10.0.0.0/24');
    expect(global.subnet).toBe('10.0.0.0/24');
    expect(local.poolId).toBe('local/10.0.0.0/24');
    expect(global.poolId).toBe('global/10.0.0.0/24');
    expect(ipam.allocate(local.poolId)).toBe('10.0.0.2');
    expect(ipam.allocate(global.poolId)).toBe('10.0.0.2');
  });
});
