/**
 * NetworkSpec.mtu is the largest inner IP packet (Docker's 1450): a UDP
 * datagram whose IP packet is exactly that size passes, one byte more is
 * dropped and counted — at the sender, and at a receiver whose network has
 * the smaller MTU.
 */
import { MemoryNetwork } from '@weft/vxlan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { keys, net, pairOn, PlaneRegistry, udpExchange, until, countersOf } from './helpers';

const IP_UDP_HEADERS = 28; // IPv4 20 + UDP 8

describe('UserspaceDataPlane MTU', () => {
  const registry = new PlaneRegistry();
  let a: UserspaceDataPlane;
  let b: UserspaceDataPlane;

  beforeEach(async () => {
    const network = new MemoryNetwork();
    a = await registry.memory(network, 'node-a', '192.0.2.1');
    b = await registry.memory(network, 'node-b', '192.0.2.2');
  });
  afterEach(() => registry.closeAll());

  it.each([
    ['plain', net('n', 4096, { mtu: 1400 }), 'plain'],
    ['encrypted', net('n', 4096, { mtu: 1368, encryption: keys([1], 1) }), 'encrypted'],
  ])('%s: an inner IP packet of exactly spec.mtu passes, one byte more is dropped and counted', async (_kind, spec, vtep) => {
    const { ea, eb } = await pairOn(spec, a, b, '10.9.0.2', '10.9.0.3');
    const fits = new Uint8Array(spec.mtu - IP_UDP_HEADERS).fill(0xab);
    expect(await udpExchange(ea, eb, fits)).toEqual(fits);
    const before = await countersOf(a);
    await expect(udpExchange(ea, eb, new Uint8Array(spec.mtu - IP_UDP_HEADERS + 1), 150)).rejects.toThrow(/no UDP datagram/);
    const after = await countersOf(a);
    expect(after('net.n.segment.drops.mtu') - before('net.n.segment.drops.mtu')).toBe(1);
    expect(after(`${vtep}.drops.mtu`) - before(`${vtep}.drops.mtu`)).toBe(1);
    expect(after(`${vtep}.txPackets`)).toBe(before(`${vtep}.txPackets`)); // never left the node
  });

  it('a receiver whose network has the smaller MTU drops the larger frame and counts it', async () => {
    await a.ensureNetwork(net('n', 4096, { mtu: 1500 }));
    const { ea, eb } = await pairOn(net('n', 4096, { mtu: 1400 }), a, b, '10.9.0.2', '10.9.0.3');
    await a.ensureNetwork(net('n', 4096, { mtu: 1500 })); // a's segment is replaced; its endpoint and entries move along
    expect(await udpExchange(ea, eb, new Uint8Array(1400 - IP_UDP_HEADERS))).toHaveLength(1400 - IP_UDP_HEADERS);
    await expect(udpExchange(ea, eb, new Uint8Array(1401 - IP_UDP_HEADERS), 150)).rejects.toThrow(/no UDP datagram/);
    await until(async () => (await countersOf(b))('net.n.segment.drops.mtu') === 1, 'the receiver to count it');
    expect((await countersOf(b))('plain.rxDropped')).toBe(1);
  });
});
