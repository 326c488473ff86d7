/** UserspaceDataPlane.open: option validation, defaults, and what info advertises. */
import { DataPlaneError, InvalidOptionsError, type SocketAddress, type Underlay } from '@weft/interface';
import { MemoryNetwork } from '@weft/vxlan';
import { DEFAULT_ENCRYPTED_PORT, DEFAULT_VXLAN_PORT, memoryUnderlayFactory, UserspaceDataPlane, type UserspaceDataPlaneOptions } from '../../src/data-plane';
import { PlaneRegistry } from './helpers';

describe('UserspaceDataPlane.open options', () => {
  const registry = new PlaneRegistry();
  afterEach(() => registry.closeAll());

  const base = (network = new MemoryNetwork()): UserspaceDataPlaneOptions => ({ nodeId: 'node-a', address: '192.0.2.1', underlay: memoryUnderlayFactory(network) });

  it.each<[string, Record<string, unknown>]>([
    ['nodeId', { nodeId: '' }],
    ['nodeId', { nodeId: 'x'.repeat(256) }],
    ['address', { address: 'node-a.example' }],
    ['address', { address: '0.0.0.0' }],
    ['address', { address: '::' }],
    ['vxlanPort', { vxlanPort: 65536 }],
    ['encryptedPort', { encryptedPort: -1 }],
    ['encryptedPort', { vxlanPort: 5000, encryptedPort: 5000 }],
    ['underlayMtu', { underlayMtu: 100 }],
    ['underlay', { underlay: 'udp' }],
    ['clock', { clock: Date.now }],
    ['sourcePorts', { sourcePorts: 65 }],
    ['mtu', { mtu: 1450 }],
    ['epoch', { epoch: 'A1A1A1A1A1A1A1A1' }],
    ['epoch', { epoch: 'a1a1a1a1' }],
    ['epoch', { epoch: 42 }],
  ])('rejects a bad %s', async (field, bad) => {
    const err = await UserspaceDataPlane.open({ ...base(), ...bad } as UserspaceDataPlaneOptions).then(
      (p) => p.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err).toMatchObject({ field });
    expect((err as Error).message).toContain(`"${field}"`);
  });

  it('defaults to ports 4789 and 4790 and MTU 1500, and advertises them', async () => {
    const asked: SocketAddress[] = [];
    const network = new MemoryNetwork();
    const factory = memoryUnderlayFactory(network);
    const p = await registry.open({
      nodeId: 'node-a',
      address: '2001:DB8:0::1',
      underlay: (at) => {
        asked.push(at);
        return factory(at);
      },
    });
    expect([DEFAULT_VXLAN_PORT, DEFAULT_ENCRYPTED_PORT]).toEqual([4789, 4790]);
    expect(asked).toEqual([
      { host: '2001:DB8:0::1', port: 4789 },
      { host: '2001:DB8:0::1', port: 4790 },
    ]);
    expect(p.info).toEqual({ kind: 'userspace', address: '2001:db8::1', vxlanPort: 4789, encryptedPort: 4790, underlayMtu: 1500, epoch: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(p.nodeId).toBe('node-a');
  });

  it('picks a new random epoch on every open, or advertises the one given', async () => {
    const network = new MemoryNetwork();
    const epochs = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const p = await registry.open({ ...base(network), vxlanPort: 0, encryptedPort: 0 });
      expect(p.info.epoch).toMatch(/^[0-9a-f]{16}$/);
      epochs.add(p.info.epoch);
      await p.close();
    }
    expect(epochs.size).toBe(4);
    const fixed = await registry.open({ ...base(network), vxlanPort: 0, encryptedPort: 0, epoch: '00000000deadbeef' });
    expect(fixed.info.epoch).toBe('00000000deadbeef');
  });

  it('port 0 advertises the ports really taken', async () => {
    const p = await registry.open({ ...base(), vxlanPort: 0, encryptedPort: 0, underlayMtu: 9000 });
    expect(p.info.vxlanPort).toBeGreaterThan(0);
    expect(p.info.encryptedPort).toBeGreaterThan(0);
    expect(p.info.encryptedPort).not.toBe(p.info.vxlanPort);
    expect(p.info.underlayMtu).toBe(9000);
  });

  it('a socket that cannot be opened rejects with DataPlaneError and closes the one already open', async () => {
    const closed: string[] = [];
    const network = new MemoryNetwork();
    const factory = memoryUnderlayFactory(network);
    const err = await UserspaceDataPlane.open({
      ...base(network),
      underlay: async (at): Promise<Underlay> => {
        if (at.port === 4790) throw Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' });
        const u = await factory(at);
        const close = u.close.bind(u);
        return Object.assign(u, { close: () => (closed.push(`${at.port}`), close()) });
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataPlaneError);
    expect((err as Error).message).toMatch(/encrypted socket at 192\.0\.2\.1:4790: bind EADDRINUSE/);
    expect((err as DataPlaneError).cause).toMatchObject({ code: 'EADDRINUSE' });
    expect(closed).toEqual(['4789']);
    await registry.open(base(network)); // both addresses are free again
  });
});
